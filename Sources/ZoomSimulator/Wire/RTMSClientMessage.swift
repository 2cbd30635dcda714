import Foundation

/// Any message an RTMS client sends (msg 1, 3, 5, 7, 10, 13, 19, 21, 28), decoded leniently: every field is
/// optional and a field of the wrong type reads as absent, so that validation can answer with the documented
/// status code instead of the decoder throwing.
struct RTMSClientMessage: Decodable, Sendable {
    var msgType: Int?
    var protocolVersion: Int?
    var sequence: Int64?
    var meetingUUID: String?
    var engagementID: String?
    var sessionID: String?
    var rtmsStreamID: String?
    var rtmsSessionID: String?
    var signature: String?
    var bufferData: Bool?
    var mediaType: Int?
    var mediaParams: MediaParams?
    var events: [EventSubscriptionEntry]?
    var timestamp: Int64?

    /// One entry of an EVENT_SUBSCRIPTION (5) `events` array.
    struct EventSubscriptionEntry: Decodable, Sendable {
        var eventType: Int?
        var subscribe: Bool?
        enum CodingKeys: String, CodingKey { case eventType = "event_type", subscribe }
    }

    /// `media_params` of a DATA_HAND_SHAKE_REQ; `null` and absent both mean "defaults".
    struct MediaParams: Decodable, Sendable {
        var audio: AudioParams?
        var transcript: TranscriptParams?
        var hasVideo = false
        var hasDeskshare = false
        var hasChat = false

        enum CodingKeys: String, CodingKey { case audio, transcript, video, deskshare, chat }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            audio = try? c.decodeIfPresent(AudioParams.self, forKey: .audio)
            transcript = try? c.decodeIfPresent(TranscriptParams.self, forKey: .transcript)
            hasVideo = c.contains(.video)
            hasDeskshare = c.contains(.deskshare)
            hasChat = c.contains(.chat)
        }
    }

    /// Requested audio parameters (docs/zoom-rtms.md, "Media handshake"); nil fields take the raw-protocol defaults.
    struct AudioParams: Decodable, Sendable {
        var contentType: Int?
        var sampleRate: Int?
        var channel: Int?
        var codec: Int?
        var dataOpt: Int?
        var sendRate: Int?
        enum CodingKeys: String, CodingKey {
            case contentType = "content_type", sampleRate = "sample_rate", channel, codec
            case dataOpt = "data_opt", sendRate = "send_rate"
        }
    }

    /// Requested transcript parameters.
    struct TranscriptParams: Decodable, Sendable {
        var contentType: Int?
        var srcLanguage: Int?
        var enableLID: Bool?
        enum CodingKeys: String, CodingKey {
            case contentType = "content_type", srcLanguage = "src_language", enableLID = "enable_lid"
        }
    }

    enum CodingKeys: String, CodingKey {
        case msgType = "msg_type", protocolVersion = "protocol_version", sequence
        case meetingUUID = "meeting_uuid", engagementID = "engagement_id", sessionID = "session_id"
        case rtmsStreamID = "rtms_stream_id", rtmsSessionID = "rtms_session_id", signature
        case bufferData = "buffer_data", mediaType = "media_type", mediaParams = "media_params", events, timestamp
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        msgType = try? c.decodeIfPresent(Int.self, forKey: .msgType)
        protocolVersion = try? c.decodeIfPresent(Int.self, forKey: .protocolVersion)
        sequence = try? c.decodeIfPresent(Int64.self, forKey: .sequence)
        meetingUUID = try? c.decodeIfPresent(String.self, forKey: .meetingUUID)
        engagementID = try? c.decodeIfPresent(String.self, forKey: .engagementID)
        sessionID = try? c.decodeIfPresent(String.self, forKey: .sessionID)
        rtmsStreamID = try? c.decodeIfPresent(String.self, forKey: .rtmsStreamID)
        rtmsSessionID = try? c.decodeIfPresent(String.self, forKey: .rtmsSessionID)
        signature = try? c.decodeIfPresent(String.self, forKey: .signature)
        bufferData = try? c.decodeIfPresent(Bool.self, forKey: .bufferData)
        mediaType = try? c.decodeIfPresent(Int.self, forKey: .mediaType)
        mediaParams = try? c.decodeIfPresent(MediaParams.self, forKey: .mediaParams)
        events = try? c.decodeIfPresent([EventSubscriptionEntry].self, forKey: .events)
        timestamp = try? c.decodeIfPresent(Int64.self, forKey: .timestamp)
    }

    /// The instance id: ZCC's quickstart sends `engagement_id`, the official SDK `meeting_uuid` (§17 Q1: both accepted).
    var instanceID: String? {
        for candidate in [engagementID, meetingUUID, sessionID] {
            if let candidate, !candidate.isEmpty { return candidate }
        }
        return nil
    }

    /// Parses a text or binary frame; the official SDK sends its JSON in binary frames, so both are accepted.
    static func parse(_ bytes: some Collection<UInt8>) -> RTMSClientMessage? {
        try? JSONDecoder().decode(RTMSClientMessage.self, from: Data(bytes))
    }
}
