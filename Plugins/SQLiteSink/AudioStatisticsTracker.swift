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

    mutating func record(_ frame: AudioFrame, engagementID: String, streamID: String?) {
        let key = Key(streamID: streamID ?? "", channel: frame.channel)
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
        if let last = lastFrameEnd[key], frame.timestamp > last.end + last.durationMs / 2 {
            delta.gaps += 1
            delta.gapMs += frame.timestamp - last.end
        }
        if frame.timestamp + durationMs > lastFrameEnd[key]?.end ?? .min {
            lastFrameEnd[key] = (frame.timestamp + durationMs, durationMs)
        }
        deltas[key] = delta
        let level = Level(streamID: key.streamID, channel: frame.channel, second: frame.timestamp / 1000)
        levels[level] = max(levels[level] ?? 0, Self.peak(frame.pcm))
    }

    /// Forgets a stream's parties once it stopped.
    mutating func forget(streamID: String?) {
        lastFrameEnd = lastFrameEnd.filter { $0.key.streamID != (streamID ?? "") }
    }

    /// The batch's statistics, and a clean slate for the next batch.
    mutating func take() -> (channels: [ChannelDelta], levels: [(Level, Int)]) {
        defer {
            deltas.removeAll(keepingCapacity: true)
            levels.removeAll(keepingCapacity: true)
        }
        return (Array(deltas.values), levels.map { ($0.key, $0.value) })
    }

    /// Largest |sample| of s16le PCM, 0 … 32768.
    static func peak(_ pcm: ByteBuffer) -> Int {
        pcm.withUnsafeReadableBytes { raw in
            var peak: Int32 = 0
            for i in 0..<raw.count / 2 {
                let value = Int32(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)))
                peak = max(peak, abs(value))
            }
            return Int(peak)
        }
    }
}
