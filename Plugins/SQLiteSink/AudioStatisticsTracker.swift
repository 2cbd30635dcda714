import NIOCore
import RelayCore

/// Per-party audio statistics, gathered in memory until the sink writes them (with the next rows, or once a
/// second) as one upsert per party and one per party-second, so the archive knows how much each party said without storing the audio.
struct AudioStatisticsTracker {
    /// What one batch adds to a party's row in `audio_channels`.
    struct ChannelDelta: Sendable {
        var streamID: String
        var channel: String
        var engagementID: String
        var userName: String?
        var sampleRate: Int
        var frames = 0
        var bytes = 0
        var gaps = 0
        var gapMs: Int64 = 0
        var firstTimestamp: Int64
        var lastTimestamp: Int64
    }

    /// The loudest sample of a party within one second of Zoom time (`audio_levels`).
    struct Level: Sendable, Hashable {
        var streamID: String
        var channel: String
        var second: Int64
    }

    private struct Key: Hashable {
        var streamID: String
        var channel: String
    }

    /// The end of each party's last frame, to see gaps across batches.
    private var lastFrameEnd: [Key: (end: Int64, durationMs: Int64)] = [:]
    private var deltas: [Key: ChannelDelta] = [:]
    private var levels: [Level: Int] = [:]
    /// Which parties of each live stream get statistics: the first `ChannelAdmission.defaultLimit` channel ids, so
    /// a media server inventing ids gets no row (and no memory) per id.
    private var admissions: [String: ChannelAdmission] = [:]

    /// Adds one frame to its party's statistics. False when its channel was refused by the per-stream cap.
    @discardableResult
    mutating func record(_ frame: AudioFrame, engagementID: String, streamID: String?) -> Bool {
        let key = Key(streamID: streamID ?? "", channel: frame.channel)
        guard admissions[key.streamID, default: ChannelAdmission()].admit(frame.channel) else { return false }
        let rate = max(frame.format.sampleRate, 1)
        let samples = frame.pcm.readableBytes / 2 / max(frame.format.channels, 1)
        let durationMs = Int64(samples * 1000 / rate)
        var delta = deltas[key] ?? ChannelDelta(
            streamID: key.streamID, channel: frame.channel, engagementID: engagementID, sampleRate: frame.format.sampleRate,
            firstTimestamp: frame.timestamp, lastTimestamp: frame.timestamp
        )
        delta.frames += 1
        delta.bytes += frame.pcm.readableBytes
        delta.userName = frame.userName ?? delta.userName
        delta.firstTimestamp = min(delta.firstTimestamp, frame.timestamp)
        delta.lastTimestamp = max(delta.lastTimestamp, frame.timestamp)
        // Saturating: ingest keeps timestamps within a day of the stream's first, but replayed events may not.
        let end = frame.timestamp.addingSaturated(durationMs)
        if let last = lastFrameEnd[key], frame.timestamp > last.end.addingSaturated(last.durationMs / 2) {
            delta.gaps += 1
            delta.gapMs = delta.gapMs.addingSaturated(frame.timestamp.subtractingSaturated(last.end))
        }
        if end > lastFrameEnd[key]?.end ?? .min {
            lastFrameEnd[key] = (end, durationMs)
        }
        deltas[key] = delta
        let level = Level(streamID: key.streamID, channel: frame.channel, second: frame.timestamp / 1000)
        levels[level] = max(levels[level] ?? 0, frame.level?.peak ?? 0)
        return true
    }

    /// Forgets a stream's parties once it stopped.
    mutating func forget(streamID: String?) {
        lastFrameEnd = lastFrameEnd.filter { $0.key.streamID != (streamID ?? "") }
        admissions[streamID ?? ""] = nil
    }

    /// The batch's statistics, and a clean slate for the next batch.
    mutating func take() -> (channels: [ChannelDelta], levels: [(Level, Int)]) {
        defer {
            deltas.removeAll(keepingCapacity: true)
            levels.removeAll(keepingCapacity: true)
        }
        return (Array(deltas.values), levels.map { ($0.key, $0.value) })
    }
}
