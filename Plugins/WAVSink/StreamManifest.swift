import Foundation
import RelayCore

/// `stream.json`, written beside a stream's WAV files: which files belong to whom, when the stream started
/// and stopped and why, and every gap, so a QA reviewer can trust (or question) a recording without
/// listening to it. Rewritten atomically while recording and once more at the end.
struct StreamManifest: Codable {
    struct Channel: Codable {
        var channel: String
        var userName: String?
        var file: String
        var durationMs: Int64
        var statistics: ChannelStatistics
    }

    struct Mixed: Codable {
        var file: String
        var left: String?
        var right: String?
    }

    /// `recording` while open, `stopped` after Zoom's stop (or a failure), `closed` when the relay shut
    /// down first, `interrupted` when the relay died while recording (set by `RecordingRepair` at the next start).
    var state: String
    var engagementId: String
    var streamId: String?
    var sampleRate: Int
    var bitsPerSample = 16
    var frameMs: Int
    /// Zoom's timestamp (ms) of the first sample of every file in this folder.
    var originTimestamp: Int64?
    /// Relay time of the first audio event and of the stop, ISO-8601 UTC.
    var startedAt: String
    var stoppedAt: String?
    var stopReason: StopReason?
    var stopMessage: String?
    var channels: [Channel]
    var mixed: Mixed?
    /// Frames with a codec the sink cannot write (only L16 is written).
    var unsupportedFrames: Int
    /// Frames dropped because their channel id came after the first `max_channels` of the stream.
    var refusedChannelFrames: Int

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return Array((try? encoder.encode(self)) ?? Data())
    }

    /// Reads a `stream.json` back (the recordings page, retention).
    static func decode(_ data: Data) throws -> StreamManifest {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(StreamManifest.self, from: data)
    }
}
