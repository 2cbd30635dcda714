/// ZCC voice event numbers (`RTMS_ZCC_VOICE_EVENT_TYPE`, docs/zoom-rtms.md, "ZCC voice events"). They reuse numbers that mean
/// something else for meetings, so they live in their own enum.
public enum ZCCVoiceEventType: Int, Sendable, Codable {
    case consumerAnswered = 8
    case consumerEnd = 9
    case userAnswered = 10
    case userEnd = 11
    case userHold = 12
    case userUnhold = 13
}

/// Meeting-style event numbers the simulator sends on a ZCC stream as well.
enum RTMSEventType: Int {
    case firstPacketTimestamp = 1
    case mediaConnectionInterrupted = 7
}
