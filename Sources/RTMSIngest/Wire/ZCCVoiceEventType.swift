/// ZCC voice events (`RTMS_ZCC_VOICE_EVENT_TYPE`, docs/zoom-rtms.md, "ZCC voice events"). The numbers collide with meeting
/// events, so they are read only on contact-center streams.
public enum ZCCVoiceEventType: Int, Sendable, CaseIterable {
    case consumerAnswered = 8, consumerEnd, userAnswered, userEnd, userHold, userUnhold
    case monitorStarted, monitorTransitioned, monitorEnded, takeoverStarted
    case transferInitiated, transferCanceled, transferAccepted, transferCompleted, transferRejected, transferTimeout
    case conferenceCanceled, conferenceParticipantCanceled, conferenceParticipantInvited, conferenceParticipantRejected
    case conferenceParticipantTimeout, conferenceParticipantLeft

    /// Zoom's name for the event, e.g. `USER_HOLD`.
    public var name: String {
        var out = ""
        for character in "\(self)" {
            if character.isUppercase { out += "_" }
            out += character.uppercased()
        }
        return out
    }
}

/// Meeting-side event numbers the relay reacts to on any stream (docs/zoom-rtms.md, "Message types").
public enum RTMSEventType: Int, Sendable {
    case firstPacketTimestamp = 1
    case activeSpeakerChange = 2
    case participantJoin = 3
    case participantLeave = 4
    case sharingStart = 5
    case sharingStop = 6
    case mediaConnectionInterrupted = 7
}
