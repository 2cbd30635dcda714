import NIOCore

/// Writes `mixed.wav`: the first party on the left, the second on the right, each sample placed by Zoom's
/// timestamps on the stream's clock, so the two sides line up the way they were spoken (the original Sample
/// interleaved by position, which drifts apart as soon as one party is muted).
///
/// The parties arrive independently, so the mixer keeps a short window of interleaved samples in memory and
/// writes the part both sides have reached. A side that stays silent holds the window back by at most
/// `lag`; a frame that arrives after its part of the window was written is mixed into the file in place.
final class StereoMixer {
    let path: String
    let directory: String
    let sampleRate: Int
    /// The channel ids on the left and right, in order of first audio.
    private(set) var lanes: [String] = []
    private var timelines: [TrackTimeline]
    /// Interleaved left/right samples from sample frame `flushed` on.
    private var window: [Int16] = []
    private var flushed: Int64 = 0
    private var file: WAVFile?
    private(set) var retry = DiskRetry()
    private let lag: Int64

    /// Whether `mixed.wav` is one an earlier run wrote (`ResumePoint`): kept and continued, not truncated.
    private let continuesFile: Bool

    /// `resuming`: the lanes an earlier run mixed, where each lane's party file ends, and the frames `mixed.wav`
    /// already holds.
    init(path: String, directory: String, sampleRate: Int, tolerance: Int64,
         resuming: (lanes: [String], ends: [Int64], frames: Int64)? = nil) {
        self.path = path
        self.directory = directory
        self.sampleRate = sampleRate
        let ends = resuming?.ends ?? []
        self.timelines = (0..<2).map { TrackTimeline(tolerance: tolerance, end: $0 < ends.count ? ends[$0] : 0) }
        self.lanes = Array((resuming?.lanes ?? []).prefix(2))
        self.flushed = max(0, resuming?.frames ?? 0)
        self.continuesFile = resuming != nil
        self.lag = Int64(sampleRate / 2)
    }

    /// Adds a mono frame of `channel`. Parties after the second are not mixed.
    func add(channel: String, pcm: ByteBuffer, position: Int64?, now: ContinuousClock.Instant) {
        guard let lane = lane(for: channel) else { return }
        let count = Int64(pcm.readableBytes / 2)
        let placement = timelines[lane].place(position: position, count: count)
        pcm.withUnsafeReadableBytes { raw in
            switch placement {
            case .append(let at, _):
                mix(raw, from: 0, count: count, lane: lane, at: at, now: now)
            case .fill(let fills):
                for fill in fills { mix(raw, from: fill.frameOffset, count: fill.count, lane: lane, at: fill.at, now: now) }
            case .duplicate:
                break
            }
        }
    }

    private func lane(for channel: String) -> Int? {
        if let index = lanes.firstIndex(of: channel) { return index }
        guard lanes.count < 2 else { return nil }
        lanes.append(channel)
        return lanes.count - 1
    }

    private func mix(_ raw: UnsafeRawBufferPointer, from offset: Int64, count: Int64, lane: Int, at: Int64, now: ContinuousClock.Instant) {
        func sample(_ i: Int64) -> Int16 {
            Int16(littleEndian: raw.loadUnaligned(fromByteOffset: Int(offset + i) * 2, as: Int16.self))
        }
        var start: Int64 = 0
        if at < flushed {
            // Already written: mix into the file in place (a late frame, or the second party joining late).
            let inFile = min(count, flushed - at)
            start = inFile
            if retry.mayWrite(now: now) {
                do {
                    let file = try openFile()
                    var bytes = try file.read(count: Int(inFile) * 4, atFrame: at)
                    bytes += repeatElement(0, count: Int(inFile) * 4 - bytes.count)
                    for i in 0..<inFile {
                        let value = UInt16(bitPattern: sample(i))
                        bytes[Int(i) * 4 + lane * 2] = UInt8(value & 0xFF)
                        bytes[Int(i) * 4 + lane * 2 + 1] = UInt8(value >> 8)
                    }
                    try file.write(bytes, atFrame: at)
                } catch {
                    retry.failed(error, now: now)
                }
            }
        }
        guard start < count else { return }
        let windowEnd = flushed + Int64(window.count / 2)
        if at + start - windowEnd > Int64(sampleRate) * 2 {
            // A long silence on both sides: write out the window and leave the rest as a hole (reads as zeros).
            flush(to: windowEnd, now: now)
            flushed = at + start
        }
        let needed = Int(at + count - flushed) * 2
        if window.count < needed { window.append(contentsOf: repeatElement(0, count: needed - window.count)) }
        let base = Int(at - flushed) * 2 + lane
        let first = Int(offset + start) * 2
        window.withUnsafeMutableBufferPointer { window in
            for i in 0..<Int(count - start) {
                window[base + (Int(start) + i) * 2] = Int16(littleEndian: raw.loadUnaligned(fromByteOffset: first + i * 2, as: Int16.self))
            }
        }
    }

    /// Writes the part of the window both parties have reached (or that the leading one is `lag` past).
    /// Writes the mixed samples every party has reached (or that are `lag` old); after a batch only once there
    /// are `minimumBytes` of them (see `ChannelTrack.flush`).
    func flush(now: ContinuousClock.Instant, minimumBytes: Int = 0) {
        let ends = timelines.map(\.end)
        let target = max(ends.min()!, ends.max()! - lag)
        guard (target - flushed) * 4 >= Int64(minimumBytes) else { return }
        flush(to: target, now: now)
    }

    private func flush(to target: Int64, now: ContinuousClock.Instant) {
        let frames = Int(min(max(target - flushed, 0), Int64(window.count / 2)))
        guard frames > 0 else { return }
        if retry.mayWrite(now: now) {
            do throws(WAVWriteError) {
                let file = try openFile()
                var failure: WAVWriteError?
                window.withUnsafeBytes { raw in
                    do throws(WAVWriteError) {
                        try file.write(UnsafeRawBufferPointer(rebasing: raw[0..<frames * 4]), atFrame: flushed)
                    } catch {
                        failure = error
                    }
                }
                if let failure { throw failure }
                retry.succeeded()
            } catch {
                retry.failed(error, now: now)
            }
        }
        window.removeFirst(frames * 2)
        flushed += Int64(frames)
    }

    func patchHeader(now: ContinuousClock.Instant) {
        flush(now: now)
        guard let file else { return }
        do {
            try file.patchHeader()
        } catch {
            retry.failed(error, now: now)
        }
    }

    /// Writes the whole window (the shorter side padded with silence) and closes the file.
    func close(now: ContinuousClock.Instant) {
        flush(to: flushed + Int64(window.count / 2), now: now)
        do {
            try file?.close()
        } catch {
            retry.failed(error, now: now)
        }
        file = nil
    }

    private func openFile() throws(WAVWriteError) -> WAVFile {
        if let file { return file }
        try RecordingFiles.makeDirectories(directory)
        let opened = try WAVFile(path: path, sampleRate: sampleRate, channels: 2, keepingData: continuesFile)
        file = opened
        return opened
    }
}
