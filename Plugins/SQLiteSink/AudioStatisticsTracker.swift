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

    /// Everything kept about one party, found with one lookup per frame.
    private struct Party {
        /// The end of its last frame (and that frame's length), to see gaps across batches.
        var lastFrameEnd: (end: Int64, durationMs: Int64)?
        /// What the current batch adds to its row; nil once taken.
        var delta: ChannelDelta?
        /// Its loudest sample per second of Zoom time in the current batch, in the order the seconds came.
        var levels: [(second: Int64, peak: Int)] = []

        mutating func record(_ frame: AudioFrame, durationMs: Int64, second: Int64, peak: Int,
                             newDelta: () -> ChannelDelta) {
            var delta = self.delta ?? newDelta()
            delta.frames += 1
            delta.bytes += frame.pcm.readableBytes
            delta.userName = frame.userName ?? delta.userName
            delta.firstTimestamp = min(delta.firstTimestamp, frame.timestamp)
            delta.lastTimestamp = max(delta.lastTimestamp, frame.timestamp)
            // Saturating: ingest keeps timestamps within a day of the stream's first, but replayed events may not.
            let end = frame.timestamp.addingSaturated(durationMs)
            if let last = lastFrameEnd, frame.timestamp > last.end.addingSaturated(last.durationMs / 2) {
                delta.gaps += 1
                delta.gapMs = delta.gapMs.addingSaturated(frame.timestamp.subtractingSaturated(last.end))
            }
            if end > lastFrameEnd?.end ?? .min { lastFrameEnd = (end, durationMs) }
            self.delta = delta
            // Frames come in time order, so a second is the last one seen or a new one; only an older one is searched.
            if let last = levels.last, last.second >= second, let index = levels.lastIndex(where: { $0.second == second }) {
                levels[index].peak = max(levels[index].peak, peak)
            } else {
                levels.append((second, peak))
            }
        }
    }

    private var parties: [Key: Party] = [:]
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
        let second = frame.timestamp / 1000
        let peak = frame.level?.peak ?? 0
        parties[key, default: Party()].record(frame, durationMs: durationMs, second: second, peak: peak) {
            ChannelDelta(streamID: key.streamID, channel: frame.channel, engagementID: engagementID, sampleRate: frame.format.sampleRate,
                         firstTimestamp: frame.timestamp, lastTimestamp: frame.timestamp)
        }
        return true
    }

    /// Forgets a stream's parties once it stopped (what they gathered is still taken with the next batch).
    mutating func forget(streamID: String?) {
        let id = streamID ?? ""
        for key in parties.keys where key.streamID == id { parties[key]?.lastFrameEnd = nil }
        admissions[id] = nil
    }

    /// The batch's statistics, and a clean slate for the next batch.
    mutating func take() -> (channels: [ChannelDelta], levels: [(Level, Int)]) {
        var channels: [ChannelDelta] = []
        var levels: [(Level, Int)] = []
        for (key, party) in parties {
            if let delta = party.delta { channels.append(delta) }
            for level in party.levels {
                levels.append((Level(streamID: key.streamID, channel: key.channel, second: level.second), level.peak))
            }
        }
        // The others keep only where their last frame ended; a stopped stream's parties go once taken.
        var index = parties.values.startIndex
        while index != parties.values.endIndex {
            parties.values[index].delta = nil
            parties.values[index].levels.removeAll(keepingCapacity: true)
            index = parties.values.index(after: index)
        }
        for (key, party) in parties where party.lastFrameEnd == nil { parties[key] = nil }
        return (channels, levels)
    }
}
