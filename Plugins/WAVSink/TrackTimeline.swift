/// Decides where each frame of one party goes in its file, from Zoom's timestamps: right after the previous
/// frame, after a stretch of silence (the party was muted and sent nothing), into silence written earlier
/// (a late frame), or nowhere (a duplicate).
///
/// Positions are sample frames from the stream's origin (the first audio timestamp of the stream), so all
/// files of a stream share one clock. Zoom's timestamps are milliseconds and jitter a little; a frame within
/// `tolerance` of the end is taken as contiguous so jitter never inserts clicks of silence.
struct TrackTimeline {
    /// Where a frame's samples go.
    enum Placement: Equatable {
        /// Write the frame at `at`; the `silence` samples before it were not sent (a gap, now silence).
        case append(at: Int64, silence: Int64)
        /// A late frame: write the given parts of it into silence inserted earlier.
        case fill([Fill])
        /// The frame covers only audio already written: drop it.
        case duplicate
    }

    /// Part of a late frame that lands in earlier silence.
    struct Fill: Equatable {
        /// Offset into the frame, in sample frames.
        var frameOffset: Int64
        /// Where it goes in the file.
        var at: Int64
        var count: Int64
    }

    /// How far a frame may be from the end and still count as contiguous (half a frame).
    let tolerance: Int64
    /// First sample frame not yet written.
    private(set) var end: Int64 = 0
    /// Recent stretches of inserted silence that a late frame may still fill, oldest first.
    private(set) var silence: [Range<Int64>] = []
    private static let rememberedSilences = 64

    /// `end`: the sample frames a file already holds (a recording resumed after a restart).
    init(tolerance: Int64, end: Int64 = 0) {
        self.tolerance = max(0, tolerance)
        self.end = max(0, end)
    }

    /// Places `count` samples whose timestamp maps to `position`; nil `position` (no usable timestamp)
    /// appends.
    mutating func place(position: Int64?, count: Int64) -> Placement {
        if let position, position > end + tolerance {
            let gap = end..<position
            silence.append(gap)
            if silence.count > Self.rememberedSilences { silence.removeFirst() }
            end = position + count
            return .append(at: position, silence: position - gap.lowerBound)
        }
        if let position, position < end - tolerance {
            return fillLate(position: position, count: count)
        }
        defer { end += count }
        return .append(at: end, silence: 0)
    }

    private mutating func fillLate(position: Int64, count: Int64) -> Placement {
        let frame = position..<(position + count)
        var fills: [Fill] = []
        var remaining: [Range<Int64>] = []
        for gap in silence {
            let lower = max(gap.lowerBound, frame.lowerBound)
            let upper = min(gap.upperBound, frame.upperBound)
            guard lower < upper else {
                remaining.append(gap)
                continue
            }
            fills.append(Fill(frameOffset: lower - position, at: lower, count: upper - lower))
            if gap.lowerBound < lower { remaining.append(gap.lowerBound..<lower) }
            if upper < gap.upperBound { remaining.append(upper..<gap.upperBound) }
        }
        silence = remaining
        return fills.isEmpty ? .duplicate : .fill(fills)
    }
}
