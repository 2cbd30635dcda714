import Foundation
import NIOCore
import NIOFoundationCompat

/// The stable JSON form of an event (docs/writing-a-sink.md, "1. What a sink receives"): one flat object with snake_case keys, `time` in ISO-8601
/// UTC with milliseconds, and `pcm` in base64. Every text-based sink writes this form.
extension StreamEvent: Codable {
    /// How `pcm` is written: in full (base64) or as a byte count only (`pcm_bytes`), for sinks that show
    /// events to people and must never carry raw audio.
    public enum PCMEncoding: Sendable {
        case base64
        case summary
    }

    /// Put a `PCMEncoding` under this key of an encoder's `userInfo` to choose how audio is written.
    public static let pcmEncodingKey = CodingUserInfoKey(rawValue: "rtms-relay.pcm-encoding")!

    enum CodingKeys: String, CodingKey {
        case id, seq, time, type
        case engagementID = "engagement_id"
        case streamID = "stream_id"
        case payload, action, by
        case serverHost = "server_host"
        case mediaParams = "media_params"
        case reason, attempt
        case statusCode = "status_code"
        case message
        case channel
        case userName = "user_name"
        case timestamp, format, pcm
        case pcmBytes = "pcm_bytes"
        case speaker, text, start, end, language
        case eventType = "event_type"
        case eventName = "event_name"
        case participant
        case fromTimestamp = "from_timestamp"
        case durationMs = "duration_ms"
        case cause
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(seq, forKey: .seq)
        try c.encodeIfPresent(id, forKey: .id)
        try c.encode(EventClock.iso8601(millis: timeMillis), forKey: .time)
        try c.encode(engagementID, forKey: .engagementID)
        try c.encodeIfPresent(streamID, forKey: .streamID)
        try c.encode(type, forKey: .type)
        switch kind {
        case .engagementStarted(let payload), .engagementEnded(let payload):
            try c.encode(payload, forKey: .payload)
        case .streamRequested(let action, let by):
            try c.encode(action, forKey: .action)
            try c.encode(by, forKey: .by)
        case .streamStarted(let serverHost):
            try c.encode(serverHost, forKey: .serverHost)
        case .streamConnected(let parameters):
            try c.encode(parameters, forKey: .mediaParams)
        case .streamInterrupted(let reason, let attempt), .streamResumed(let reason, let attempt):
            try c.encode(reason, forKey: .reason)
            try c.encode(attempt, forKey: .attempt)
        case .streamPaused, .streamUnpaused:
            break
        case .streamStopped(let reason):
            try c.encode(reason, forKey: .reason)
        case .streamFailed(let statusCode, let message):
            try c.encodeIfPresent(statusCode, forKey: .statusCode)
            try c.encode(message, forKey: .message)
        case .audio(let frame):
            try c.encode(frame.channel, forKey: .channel)
            try c.encodeIfPresent(frame.userName, forKey: .userName)
            try c.encode(frame.timestamp, forKey: .timestamp)
            try c.encode(frame.format, forKey: .format)
            switch encoder.userInfo[Self.pcmEncodingKey] as? PCMEncoding ?? .base64 {
            case .base64: try c.encode(Base64.encode(frame.pcm.readableBytesView), forKey: .pcm)
            case .summary: try c.encode(frame.pcm.readableBytes, forKey: .pcmBytes)
            }
        case .audioGap(let gap):
            try c.encode(gap.channel, forKey: .channel)
            try c.encodeIfPresent(gap.userName, forKey: .userName)
            try c.encode(gap.fromTimestamp, forKey: .fromTimestamp)
            try c.encode(gap.durationMillis, forKey: .durationMs)
            try c.encode(gap.cause, forKey: .cause)
        case .transcript(let transcript):
            try c.encode(transcript.channel, forKey: .channel)
            try c.encodeIfPresent(transcript.speaker, forKey: .speaker)
            try c.encode(transcript.text, forKey: .text)
            try c.encodeIfPresent(transcript.start, forKey: .start)
            try c.encodeIfPresent(transcript.end, forKey: .end)
            try c.encodeIfPresent(transcript.language, forKey: .language)
        case .participant(let event):
            try c.encode(event.eventType, forKey: .eventType)
            try c.encode(event.eventName, forKey: .eventName)
            try c.encode(event.participant, forKey: .participant)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        seq = try c.decode(UInt64.self, forKey: .seq)
        if let id = try c.decodeIfPresent(String.self, forKey: .id) {
            let parts = id.split(separator: "-")
            guard parts.count == 2, let origin = UInt64(parts[0], radix: 16), origin != 0, UInt64(parts[1]) == seq else {
                throw DecodingError.dataCorruptedError(forKey: .id, in: c, debugDescription: "not {origin hex}-{seq}: \(id)")
            }
            self.origin = origin
        }
        let timeText = try c.decode(String.self, forKey: .time)
        guard let millis = EventClock.parseISO8601(timeText) else {
            throw DecodingError.dataCorruptedError(forKey: .time, in: c, debugDescription: "not an ISO-8601 UTC time: \(timeText)")
        }
        timeMillis = millis
        engagementID = try c.decode(String.self, forKey: .engagementID)
        streamID = try c.decodeIfPresent(String.self, forKey: .streamID)
        switch try c.decode(EventType.self, forKey: .type) {
        case .engagementStarted:
            kind = .engagementStarted(payload: try c.decodeIfPresent(JSONValue.self, forKey: .payload) ?? .null)
        case .engagementEnded:
            kind = .engagementEnded(payload: try c.decodeIfPresent(JSONValue.self, forKey: .payload) ?? .null)
        case .streamRequested:
            kind = .streamRequested(action: try c.decode(StreamAction.self, forKey: .action), by: try c.decode(String.self, forKey: .by))
        case .streamStarted:
            kind = .streamStarted(serverHost: try c.decode(String.self, forKey: .serverHost))
        case .streamConnected:
            kind = .streamConnected(try c.decode(MediaParameters.self, forKey: .mediaParams))
        case .streamInterrupted:
            kind = .streamInterrupted(reason: try c.decode(String.self, forKey: .reason), attempt: try c.decode(Int.self, forKey: .attempt))
        case .streamResumed:
            kind = .streamResumed(reason: try c.decode(String.self, forKey: .reason), attempt: try c.decode(Int.self, forKey: .attempt))
        case .streamPaused:
            kind = .streamPaused
        case .streamUnpaused:
            kind = .streamUnpaused
        case .streamStopped:
            kind = .streamStopped(try c.decode(StopReason.self, forKey: .reason))
        case .streamFailed:
            kind = .streamFailed(statusCode: try c.decodeIfPresent(Int.self, forKey: .statusCode), message: try c.decode(String.self, forKey: .message))
        case .audio:
            let pcm: ByteBuffer
            if let text = try c.decodeIfPresent(String.self, forKey: .pcm) {
                guard let bytes = Base64.decode(text) else {
                    throw DecodingError.dataCorruptedError(forKey: .pcm, in: c, debugDescription: "pcm is not valid base64")
                }
                pcm = ByteBuffer(bytes: bytes)
            } else {
                pcm = ByteBuffer()
            }
            kind = .audio(AudioFrame(
                channel: try c.decode(String.self, forKey: .channel),
                userName: try c.decodeIfPresent(String.self, forKey: .userName),
                timestamp: try c.decode(Int64.self, forKey: .timestamp),
                format: try c.decode(AudioFormat.self, forKey: .format),
                pcm: pcm
            ))
        case .audioGap:
            kind = .audioGap(AudioGap(
                channel: try c.decode(String.self, forKey: .channel),
                userName: try c.decodeIfPresent(String.self, forKey: .userName),
                fromTimestamp: try c.decode(Int64.self, forKey: .fromTimestamp),
                durationMillis: try c.decode(Int64.self, forKey: .durationMs),
                cause: try c.decode(AudioGap.Cause.self, forKey: .cause)
            ))
        case .transcript:
            kind = .transcript(Transcript(
                channel: try c.decode(String.self, forKey: .channel),
                speaker: try c.decodeIfPresent(String.self, forKey: .speaker),
                text: try c.decode(String.self, forKey: .text),
                start: try c.decodeIfPresent(Int64.self, forKey: .start),
                end: try c.decodeIfPresent(Int64.self, forKey: .end),
                language: try c.decodeIfPresent(String.self, forKey: .language)
            ))
        case .participant:
            kind = .participant(ParticipantEvent(
                eventType: try c.decode(Int.self, forKey: .eventType),
                eventName: try c.decode(String.self, forKey: .eventName),
                participant: try c.decodeIfPresent(JSONValue.self, forKey: .participant) ?? .null
            ))
        }
    }
}

extension StreamEvent {
    /// The one encoder setting of the event JSON (and of messages that carry events): keys sorted so the output is
    /// stable, slashes unescaped, `pcm` written as `pcm` says. A sink makes one and keeps it.
    public static func jsonEncoder(pcm: PCMEncoding) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.userInfo[pcmEncodingKey] = pcm
        return encoder
    }

    /// The JSON form as UTF-8 bytes, with keys sorted so the output is stable.
    public func jsonData(pcm: PCMEncoding = .base64) throws -> Data {
        try Self.jsonEncoder(pcm: pcm).encode(self)
    }

    /// Decodes the JSON form.
    public static func decode(json: Data) throws -> StreamEvent {
        try JSONDecoder().decode(StreamEvent.self, from: json)
    }
}
