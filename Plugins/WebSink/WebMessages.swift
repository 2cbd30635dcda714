import Foundation
import NIOCore
import RelayCore

/// `event: status` data: one line of the page's live log.
struct StatusMessage: Encodable {
    var engagementID: String
    var streamID: String?
    var level: StatusLine.Level
    var text: String
    var channel: String?
    var time: Int64

    enum CodingKeys: String, CodingKey {
        case engagementID = "engagement_id"
        case streamID = "stream_id"
        case level, text, channel, time
    }

    init(engagementID: String, streamID: String?, level: StatusLine.Level, text: String, channel: String?, time: Int64) {
        self.engagementID = engagementID
        self.streamID = streamID
        self.level = level
        self.text = text
        self.channel = channel
        self.time = time
    }

    init(_ line: StatusLine, of event: StreamEvent) {
        self.init(engagementID: event.engagementID, streamID: event.streamID, level: line.level, text: line.text, channel: line.channel, time: event.timeMillis)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(engagementID, forKey: .engagementID)
        try c.encodeIfPresent(streamID, forKey: .streamID)
        try c.encode(level, forKey: .level)
        try c.encode(text, forKey: .text)
        try c.encodeIfPresent(channel, forKey: .channel)
        try c.encode(EventClock.iso8601(millis: time), forKey: .time)
    }

    var json: String { WebJSON.string(self) }
}

/// `event: level` data: per-channel chunk counters and audio levels of one stream, a few times a second.
struct LevelMessage: Encodable {
    struct Channel: Encodable {
        var channel: String
        var userName: String?
        /// Frames received on this channel in this stream.
        var chunks: Int
        /// Root mean square of the latest frame, 0…1 of full scale.
        var rms: Double
        /// Largest absolute sample of the latest frame, 0…1.
        var peak: Double

        enum CodingKeys: String, CodingKey {
            case channel, chunks, rms, peak
            case userName = "user_name"
        }
    }

    var engagementID: String
    var streamID: String
    var channels: [Channel]
    var time: String

    enum CodingKeys: String, CodingKey {
        case engagementID = "engagement_id"
        case streamID = "stream_id"
        case channels, time
    }

    var json: String { WebJSON.string(self) }
}

/// The sink's messages in the event JSON's encoder setting (sorted keys, so messages are stable and testable; never raw PCM).
enum WebJSON {
    static func string(_ value: some Encodable) -> String {
        guard let data = try? StreamEvent.jsonEncoder(pcm: .summary).encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
