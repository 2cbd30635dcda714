/// SIGNALING_HAND_SHAKE_RESP (2).
struct SignalingHandshakeResponse: Encodable {
    var msgType = RTMSMessageType.signalingHandshakeResponse
    var protocolVersion = 1
    var sequence: Int64
    var statusCode: RTMSStatusCode
    var reason: String
    var mediaServer: MediaServer?

    struct MediaServer: Encodable {
        var serverURLs: [String: String]
        enum CodingKeys: String, CodingKey { case serverURLs = "server_urls" }
    }

    enum CodingKeys: String, CodingKey {
        case msgType = "msg_type", protocolVersion = "protocol_version", sequence
        case statusCode = "status_code", reason, mediaServer = "media_server"
    }
}

/// DATA_HAND_SHAKE_RESP (4). `payload_encrypted` and `media_params` are required by the official SDK.
struct DataHandshakeResponse: Encodable {
    var msgType = RTMSMessageType.dataHandshakeResponse
    var protocolVersion = 1
    var sequence: Int64
    var statusCode: RTMSStatusCode
    var reason: String
    var payloadEncrypted = false
    var mediaParams: ConfirmedMediaParams?

    enum CodingKeys: String, CodingKey {
        case msgType = "msg_type", protocolVersion = "protocol_version", sequence
        case statusCode = "status_code", reason, payloadEncrypted = "payload_encrypted", mediaParams = "media_params"
    }
}

/// The completed `media_params` echoed in a DATA_HAND_SHAKE_RESP, defaults filled in.
struct ConfirmedMediaParams: Encodable, Sendable {
    var audio: Audio?
    var transcript: Transcript?

    struct Audio: Encodable, Sendable {
        var contentType: Int
        var sampleRate: Int
        var channel: Int
        var codec: Int
        var dataOpt: Int
        var sendRate: Int
        enum CodingKeys: String, CodingKey {
            case contentType = "content_type", sampleRate = "sample_rate", channel, codec
            case dataOpt = "data_opt", sendRate = "send_rate"
        }
    }

    struct Transcript: Encodable, Sendable {
        var contentType: Int
        var srcLanguage: Int
        var enableLID: Bool
        enum CodingKeys: String, CodingKey {
            case contentType = "content_type", srcLanguage = "src_language", enableLID = "enable_lid"
        }
    }
}

/// STREAM_STATE_UPDATE (8).
struct StreamStateUpdate: Encodable {
    var msgType = RTMSMessageType.streamStateUpdate
    var rtmsStreamID: String
    var state: RTMSStreamState
    var reason: Int
    var timestamp: Int64
    enum CodingKeys: String, CodingKey {
        case msgType = "msg_type", rtmsStreamID = "rtms_stream_id", state, reason, timestamp
    }
}

/// SESSION_STATE_UPDATE (9). `stop_reason` is the documented key; `reason` is duplicated because the doc table
/// names it that way and the SDK probe sent both.
struct SessionStateUpdate: Encodable {
    var msgType = RTMSMessageType.sessionStateUpdate
    var rtmsSessionID: String
    var state: RTMSSessionState
    var stopReason: Int
    var reason: Int
    var timestamp: Int64
    enum CodingKeys: String, CodingKey {
        case msgType = "msg_type", rtmsSessionID = "rtms_session_id", state, stopReason = "stop_reason", reason, timestamp
    }
}

/// SESSION_STATE_RESP (11).
struct SessionStateResponse: Encodable {
    var msgType = RTMSMessageType.sessionStateResponse
    var rtmsSessionID: String
    var state: RTMSSessionState
    var timestamp: Int64
    enum CodingKeys: String, CodingKey { case msgType = "msg_type", rtmsSessionID = "rtms_session_id", state, timestamp }
}

/// STREAM_STATE_RESP (20).
struct StreamStateResponse: Encodable {
    var msgType = RTMSMessageType.streamStateResponse
    var rtmsStreamID: String
    var state: RTMSStreamState
    var timestamp: Int64
    enum CodingKeys: String, CodingKey { case msgType = "msg_type", rtmsStreamID = "rtms_stream_id", state, timestamp }
}

/// STREAM_CLOSE_RESP (22).
struct StreamCloseResponse: Encodable {
    var msgType = RTMSMessageType.streamCloseResponse
    var rtmsStreamID: String
    var statusCode: RTMSStatusCode
    var reason: String
    var timestamp: Int64
    enum CodingKeys: String, CodingKey {
        case msgType = "msg_type", rtmsStreamID = "rtms_stream_id", statusCode = "status_code", reason, timestamp
    }
}

/// VIDEO_SUBSCRIPTION_RESP (29): a ZCC stream has no video, so every request is refused.
struct VideoSubscriptionResponse: Encodable {
    var msgType = RTMSMessageType.videoSubscriptionResponse
    var userID: Int64
    var statusCode: RTMSStatusCode
    var reason: String
    var timestamp: Int64
    enum CodingKeys: String, CodingKey {
        case msgType = "msg_type", userID = "user_id", statusCode = "status_code", reason, timestamp
    }
}

/// KEEP_ALIVE_REQ (12); the client must echo `timestamp` in a 13 on the same socket.
struct KeepAliveRequest: Encodable, Sendable {
    var msgType = RTMSMessageType.keepAliveRequest
    var sequence: Int64
    var timestamp: Int64
    enum CodingKeys: String, CodingKey { case msgType = "msg_type", sequence, timestamp }
}

/// EVENT_UPDATE (6) for meeting-style events (first packet timestamp, media connection interrupted).
struct EventUpdate: Encodable {
    var msgType = RTMSMessageType.eventUpdate
    var event: Event
    struct Event: Encodable {
        var eventType: Int
        var timestamp: Int64
        var mediaType: Int?
        enum CodingKeys: String, CodingKey { case eventType = "event_type", timestamp, mediaType = "media_type" }
    }
    enum CodingKeys: String, CodingKey { case msgType = "msg_type", event }
}

/// EVENT_UPDATE (6) carrying a ZCC voice event: `event_ts` and a `participant_info` object (docs/zoom-rtms.md, "ZCC voice events").
struct ZCCVoiceEventUpdate: Encodable {
    var msgType = RTMSMessageType.eventUpdate
    var event: Event
    struct Event: Encodable {
        var eventType: ZCCVoiceEventType
        var eventTs: Int64
        var participantInfo: ParticipantInfo
        enum CodingKeys: String, CodingKey { case eventType = "event_type", eventTs = "event_ts", participantInfo = "participant_info" }
    }
    struct ParticipantInfo: Encodable {
        var channelID: String
        var participantMode: String
        var queueID: String
        var queueName: String
        var accountID: String
        var divisionID: String
        var phoneNumber: String
        var userID: String
        var displayName: String
        enum CodingKeys: String, CodingKey {
            case channelID = "channel_id", participantMode = "participant_mode", queueID = "queue_id"
            case queueName = "queue_name", accountID = "account_id", divisionID = "division_id"
            case phoneNumber = "phone_number", userID = "user_id", displayName = "display_name"
        }
    }
    enum CodingKeys: String, CodingKey { case msgType = "msg_type", event }
}

/// MEDIA_DATA_TRANSCRIPT (17). `data` is UTF-8 text, not base64.
struct TranscriptMessage: Encodable {
    var msgType = RTMSMessageType.mediaDataTranscript
    var content: Content
    struct Content: Encodable {
        var userID: Int
        var userName: String
        var channelID: String
        var data: String
        var startTime: Int64
        var endTime: Int64
        var timestamp: Int64
        var language: Int
        enum CodingKeys: String, CodingKey {
            case userID = "user_id", userName = "user_name", channelID = "channel_id", data
            case startTime = "start_time", endTime = "end_time", timestamp, language
        }
    }
    enum CodingKeys: String, CodingKey { case msgType = "msg_type", content }
}
