import RelayCore

/// SIGNALING_HAND_SHAKE_RESP (2): a status and, on success, the media URLs per kind.
public struct SignalingHandshakeResponse: Decodable, Sendable, Equatable {
    public var statusCode: Int
    public var reason: String
    /// `media_server.server_urls`: `audio`, `transcript`, `all`, …
    public var mediaURLs: [String: String]

    public init(statusCode: Int, reason: String = "", mediaURLs: [String: String] = [:]) {
        self.statusCode = statusCode
        self.reason = reason
        self.mediaURLs = mediaURLs
    }

    enum CodingKeys: String, CodingKey { case statusCode = "status_code", reason, mediaServer = "media_server" }
    enum MediaServerKeys: String, CodingKey { case serverURLs = "server_urls" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        statusCode = c.lenientInt(.statusCode) ?? -1
        reason = (try? c.decodeIfPresent(String.self, forKey: .reason)) ?? ""
        let server = try? c.nestedContainer(keyedBy: MediaServerKeys.self, forKey: .mediaServer)
        mediaURLs = (try? server?.decodeIfPresent([String: String].self, forKey: .serverURLs)) ?? [:]
    }

    /// The URL to open for audio: `audio`, else `all` (docs/rtms-media.md, "Which media URL").
    public var audioURL: String? { mediaURLs["audio"] ?? mediaURLs["all"] }

    /// The one media URL to open and the media types to ask for on it. With `transcripts`, `all` (the URL that
    /// serves several media types on one socket) with audio and transcripts; without it, or when Zoom lists no
    /// `all` URL, `audioURL` with audio only (docs/rtms-media.md).
    public func mediaURL(transcripts: Bool) -> (url: String, types: RTMSMediaType)? {
        if transcripts, let all = mediaURLs["all"] { return (all, [.audio, .transcript]) }
        return audioURL.map { ($0, .audio) }
    }
}

/// DATA_HAND_SHAKE_RESP (4): a status and the confirmed media parameters.
public struct DataHandshakeResponse: Decodable, Sendable, Equatable {
    public var statusCode: Int
    public var reason: String
    /// `payload_encrypted` (the docs' table says `payload_encryption`; both are read).
    public var payloadEncrypted: Bool
    public var audio: ConfirmedAudio?

    /// `media_params.audio` as Zoom confirmed it.
    public struct ConfirmedAudio: Decodable, Sendable, Equatable {
        public var sampleRate: Int?
        public var channel: Int?
        public var codec: Int?
        public var sendRate: Int?
        enum CodingKeys: String, CodingKey { case sampleRate = "sample_rate", channel, codec, sendRate = "send_rate" }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            sampleRate = c.lenientInt(.sampleRate)
            channel = c.lenientInt(.channel)
            codec = c.lenientInt(.codec)
            sendRate = c.lenientInt(.sendRate)
        }
    }

    public init(statusCode: Int, reason: String = "", payloadEncrypted: Bool = false, audio: ConfirmedAudio? = nil) {
        self.statusCode = statusCode
        self.reason = reason
        self.payloadEncrypted = payloadEncrypted
        self.audio = audio
    }

    enum CodingKeys: String, CodingKey {
        case statusCode = "status_code", reason, payloadEncrypted = "payload_encrypted"
        case payloadEncryption = "payload_encryption", mediaParams = "media_params"
    }
    enum ParamsKeys: String, CodingKey { case audio }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        statusCode = c.lenientInt(.statusCode) ?? -1
        reason = (try? c.decodeIfPresent(String.self, forKey: .reason)) ?? ""
        payloadEncrypted = ((try? c.decodeIfPresent(Bool.self, forKey: .payloadEncrypted)) ?? nil)
            ?? ((try? c.decodeIfPresent(Bool.self, forKey: .payloadEncryption)) ?? nil) ?? false
        let params = try? c.nestedContainer(keyedBy: ParamsKeys.self, forKey: .mediaParams)
        audio = (try? params?.decodeIfPresent(ConfirmedAudio.self, forKey: .audio)) ?? nil
    }

    /// The negotiated parameters, with `requested` filling whatever Zoom left out or confirmed outside
    /// `RTMSWireLimits` (those are listed by `outOfRangeParameters`).
    public func mediaParameters(requested: MediaParameters) -> MediaParameters {
        var result = requested
        if let index = audio?.sampleRate, let rate = RTMSAudioSampleRate(rawValue: index) { result.audio.sampleRate = rate.hertz }
        if let channels = audio?.channel, RTMSWireLimits.channels.contains(channels) { result.audio.channels = channels }
        if let codec = audio?.codec.flatMap(RTMSAudioCodec.init(rawValue:)) { result.audio.codec = codec.codec }
        if let rate = audio?.sendRate, RTMSWireLimits.sendRateMilliseconds.contains(rate) { result.frameMilliseconds = rate }
        return result
    }

    /// The confirmed media parameters that `mediaParameters(requested:)` ignored because they are out of range,
    /// e.g. `send_rate 999999999 (accepted: 10…1000 ms)`, for the log. Empty when all were usable.
    public var outOfRangeParameters: [String] {
        guard let audio else { return [] }
        var ignored: [String] = []
        if let index = audio.sampleRate, RTMSAudioSampleRate(rawValue: index) == nil {
            ignored.append("sample_rate \(index) (accepted: 0…3, an index for 8, 16, 32 or 48 kHz)")
        }
        if let channels = audio.channel, !RTMSWireLimits.channels.contains(channels) {
            ignored.append("channel \(channels) (accepted: \(RTMSWireLimits.channels.lowerBound)…\(RTMSWireLimits.channels.upperBound))")
        }
        if let rate = audio.sendRate, !RTMSWireLimits.sendRateMilliseconds.contains(rate) {
            let range = RTMSWireLimits.sendRateMilliseconds
            ignored.append("send_rate \(rate) (accepted: \(range.lowerBound)…\(range.upperBound) ms)")
        }
        return ignored
    }
}

/// KEEP_ALIVE_REQ (12): answer with its `timestamp` on the same socket.
public struct KeepAliveRequest: Decodable, Sendable, Equatable {
    public var timestamp: Int64
    public var sequence: Int64?
    public init(timestamp: Int64, sequence: Int64? = nil) {
        self.timestamp = timestamp
        self.sequence = sequence
    }
    enum CodingKeys: String, CodingKey { case timestamp, sequence }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        timestamp = c.lenientInt64(.timestamp) ?? 0
        sequence = c.lenientInt64(.sequence)
    }
}

/// STREAM_STATE_UPDATE (8): `state` and `reason` (an `RTMS_STOP_REASON`, sometimes a string in old servers).
public struct StreamStateUpdate: Decodable, Sendable, Equatable {
    public var state: Int
    public var reason: Int
    public init(state: Int, reason: Int = 0) {
        self.state = state
        self.reason = reason
    }
    enum CodingKeys: String, CodingKey { case state, reason }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        state = c.lenientInt(.state) ?? -1
        reason = c.lenientInt(.reason) ?? 0
    }
}

/// SESSION_STATE_UPDATE (9): `state` and `stop_reason` (the doc table says `reason`; both are read).
public struct SessionStateUpdate: Decodable, Sendable, Equatable {
    public var state: Int
    public var stopReason: Int
    public var sessionID: String?
    public init(state: Int, stopReason: Int = 0, sessionID: String? = nil) {
        self.state = state
        self.stopReason = stopReason
        self.sessionID = sessionID
    }
    enum CodingKeys: String, CodingKey { case state, stopReason = "stop_reason", reason, sessionID = "rtms_session_id" }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        state = c.lenientInt(.state) ?? -1
        stopReason = c.lenientInt(.stopReason) ?? c.lenientInt(.reason) ?? 0
        sessionID = c.lenientString(.sessionID)
    }
}

/// STREAM_CLOSE_RESP (22).
public struct StreamCloseResponse: Decodable, Sendable, Equatable {
    public var statusCode: Int
    public var reason: String
    enum CodingKeys: String, CodingKey { case statusCode = "status_code", reason }
    public init(statusCode: Int, reason: String = "") {
        self.statusCode = statusCode
        self.reason = reason
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        statusCode = c.lenientInt(.statusCode) ?? -1
        reason = (try? c.decodeIfPresent(String.self, forKey: .reason)) ?? ""
    }
}

/// EVENT_UPDATE (6): `event.event_type` and the rest of the event as JSON (ZCC puts the party in
/// `participant_info`, once misspelt `paticipant_info` in Zoom's own sample).
public struct EventUpdate: Decodable, Sendable, Equatable {
    public var eventType: Int
    public var event: JSONValue
    public init(eventType: Int, event: JSONValue) {
        self.eventType = eventType
        self.event = event
    }
    enum CodingKeys: String, CodingKey { case event }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        event = (try? c.decodeIfPresent(JSONValue.self, forKey: .event)) ?? .null
        eventType = event["event_type"]?.intValue ?? -1
    }

    /// The party the event is about: `participant_info`, its misspelling, `participants`, or the event itself.
    public var participant: JSONValue {
        event["participant_info"] ?? event["paticipant_info"] ?? event["participants"] ?? event
    }
}

/// MEDIA_DATA_TRANSCRIPT (17): one utterance; `data` is UTF-8 text (not base64).
public struct TranscriptMessage: Decodable, Sendable, Equatable {
    public var userID: String?
    public var userName: String?
    public var channelID: String?
    public var text: String
    public var startTime: Int64?
    public var endTime: Int64?
    public var timestamp: Int64?
    public var language: Int?

    enum CodingKeys: String, CodingKey { case content }
    enum ContentKeys: String, CodingKey {
        case userID = "user_id", userName = "user_name", channelID = "channel_id", data
        case startTime = "start_time", endTime = "end_time", timestamp, language
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self).nestedContainer(keyedBy: ContentKeys.self, forKey: .content)
        userID = c.lenientString(.userID)
        userName = try? c.decodeIfPresent(String.self, forKey: .userName)
        channelID = try? c.decodeIfPresent(String.self, forKey: .channelID)
        text = (try? c.decodeIfPresent(String.self, forKey: .data)) ?? ""
        startTime = c.lenientInt64(.startTime)
        endTime = c.lenientInt64(.endTime)
        timestamp = c.lenientInt64(.timestamp)
        language = c.lenientInt(.language)
    }
}
