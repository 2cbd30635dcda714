/// What happened to one party's audio in a recording, kept for `stream.json` so QA can see whether a file
/// is complete and where its silence came from.
struct ChannelStatistics: Codable {
    /// A stretch the party sent nothing for, filled with silence.
    struct Gap: Codable, Equatable {
        /// Milliseconds from the start of the file.
        var atMs: Int64
        var durationMs: Int64
    }

    var frames = 0
    var bytes = 0
    var firstTimestamp: Int64?
    var lastTimestamp: Int64?
    /// Gaps in order of arrival (the first `maximumListedGaps`; `gapCount` counts all).
    var gaps: [Gap] = []
    var gapCount = 0
    var silenceMs: Int64 = 0
    /// Frames that only repeated audio already written.
    var duplicateFrames = 0
    /// Frames that arrived after later ones and were written into their slot.
    var lateFrames = 0
    /// Frames lost because the disk refused the write (full, read-only …); their time is silence.
    var droppedFrames = 0
    /// Frames whose rate or channel count differed from the file's.
    var mismatchedFrames = 0
    /// Frames whose timestamp lay outside what a WAV file can hold (RIFF sizes are 32-bit); dropped.
    var outOfRangeFrames = 0

    static let maximumListedGaps = 1000

    mutating func record(frameBytes: Int, timestamp: Int64) {
        frames += 1
        bytes += frameBytes
        if firstTimestamp == nil { firstTimestamp = timestamp }
        lastTimestamp = max(lastTimestamp ?? timestamp, timestamp)
    }

    mutating func recordGap(atSample: Int64, samples: Int64, sampleRate: Int) {
        let rate = Int64(max(sampleRate, 1))
        let gap = Gap(atMs: atSample.multipliedSaturated(by: 1000) / rate, durationMs: samples.multipliedSaturated(by: 1000) / rate)
        gapCount += 1
        silenceMs = silenceMs.addingSaturated(gap.durationMs)
        if gaps.count < Self.maximumListedGaps { gaps.append(gap) }
    }
}
