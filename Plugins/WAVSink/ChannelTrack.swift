import NIOCore
import RelayCore

/// One party's WAV file in a recording: places each frame with a `TrackTimeline`, gathers a batch's
/// contiguous samples in memory and writes them with one system call per batch.
///
/// The file is created on the first flush, not when the party first speaks, so a directory that is not
/// writable yet (or a full disk) is just a failed flush: frames are dropped, their time becomes silence, and
/// the next flush a second later tries again.
final class ChannelTrack {
    let channel: String
    let path: String
    let directory: String
    let sampleRate: Int
    let channels: Int
    var userName: String?
    private(set) var statistics = ChannelStatistics()
    private(set) var retry = DiskRetry()
    private var timeline: TrackTimeline
    private var file: WAVFile?
    /// Samples not written yet, starting at sample frame `pendingStart`.
    private var pending: [UInt8] = []
    private var pendingStart: Int64 = 0
    /// Late frames that land before `pendingStart`, written directly at the next flush.
    private var patches: [(at: Int64, bytes: [UInt8])] = []
    private let blockAlign: Int

    /// Gaps up to this many sample frames are padded in memory; longer ones are left as a hole in the file.
    private var maximumPaddedGap: Int64 { Int64(sampleRate) }

    /// Whether the file is one an earlier run wrote (`ResumePoint`): kept and continued, not truncated.
    private let continuesFile: Bool

    /// `resuming`: the samples and statistics an earlier run left in the file at `path` (checked by the caller).
    init(channel: String, path: String, directory: String, sampleRate: Int, channels: Int, tolerance: Int64,
         resuming: (frames: Int64, statistics: ChannelStatistics)? = nil) {
        self.channel = channel
        self.path = path
        self.directory = directory
        self.sampleRate = sampleRate
        self.channels = channels
        // Saturating: a recording opened with a format from an event is only written once a frame matches it.
        self.blockAlign = 2.multipliedSaturated(by: max(channels, 1))
        self.timeline = TrackTimeline(tolerance: tolerance, end: resuming?.frames ?? 0)
        self.statistics = resuming?.statistics ?? ChannelStatistics()
        self.continuesFile = resuming != nil
    }

    /// Adds one frame whose timestamp maps to sample frame `position` (nil: no usable timestamp).
    func add(_ pcm: ByteBuffer, position: Int64?, timestamp: Int64, now: ContinuousClock.Instant) {
        let count = Int64(pcm.readableBytes / blockAlign)
        statistics.record(frameBytes: pcm.readableBytes, timestamp: timestamp)
        let placement = timeline.place(position: position, count: count)
        let writing = retry.mayWrite(now: now)
        if !writing { statistics.droppedFrames += 1 }
        pcm.withUnsafeReadableBytes { raw in
            let samples = UnsafeRawBufferPointer(rebasing: raw[0..<Int(count) * blockAlign])
            switch placement {
            case .append(let at, let silence):
                if silence > 0 { statistics.recordGap(atSample: at - silence, samples: silence, sampleRate: sampleRate) }
                if writing { append(samples, at: at) }
            case .fill(let fills):
                statistics.lateFrames += 1
                guard writing else { return }
                for fill in fills {
                    let part = UnsafeRawBufferPointer(rebasing: samples[Int(fill.frameOffset) * blockAlign..<Int(fill.frameOffset + fill.count) * blockAlign])
                    overwrite(part, at: fill.at)
                }
            case .duplicate:
                statistics.duplicateFrames += 1
            }
        }
    }

    /// Marks a frame that did not fit the file's format.
    func recordMismatch() {
        statistics.mismatchedFrames += 1
    }

    /// Marks a frame whose timestamp lies outside what the file can hold.
    func recordOutOfRange() {
        statistics.outOfRangeFrames += 1
    }

    private var pendingEnd: Int64 { pendingStart + Int64(pending.count / blockAlign) }

    private func append(_ samples: UnsafeRawBufferPointer, at: Int64) {
        if pending.isEmpty {
            pendingStart = at
        } else if at != pendingEnd {
            if at > pendingEnd && at - pendingEnd <= maximumPaddedGap {
                pending.append(contentsOf: repeatElement(0, count: Int(at - pendingEnd) * blockAlign))
            } else {
                patches.append((pendingStart, pending))
                pending.removeAll(keepingCapacity: true)
                pendingStart = at
            }
        }
        pending.append(contentsOf: samples)
    }

    private func overwrite(_ samples: UnsafeRawBufferPointer, at: Int64) {
        let count = Int64(samples.count / blockAlign)
        if !pending.isEmpty, at >= pendingStart, at + count <= pendingEnd {
            let offset = Int(at - pendingStart) * blockAlign
            pending.withUnsafeMutableBytes { $0.baseAddress!.advanced(by: offset).copyMemory(from: samples.baseAddress!, byteCount: samples.count) }
        } else {
            patches.append((at, Array(samples)))
        }
    }

    /// Writes what the batch gathered. On failure the gathered audio is dropped (its time reads as silence)
    /// and writing pauses for a second; the error stays in `retry.failure` for `/health`.
    ///
    /// `minimumBytes`: after a batch, contiguous audio waits until there is this much (one system call per
    /// half second of a party instead of one per batch: with a thousand calls, batches are small); the
    /// once-a-second tick and close write whatever there is.
    func flush(now: ContinuousClock.Instant, minimumBytes: Int = 0) {
        guard !pending.isEmpty || !patches.isEmpty else { return }
        guard patches.isEmpty, pending.count < minimumBytes else { return write(now: now) }
    }

    private func write(now: ContinuousClock.Instant) {
        defer {
            pending.removeAll(keepingCapacity: true)
            patches.removeAll()
        }
        do {
            let file = try openFile()
            for patch in patches { try file.write(patch.bytes, atFrame: patch.at) }
            try file.write(pending, atFrame: pendingStart)
            retry.succeeded()
        } catch {
            retry.failed(error, now: now)
        }
    }

    /// Writes what is pending and rewrites the header sizes (once a second while recording).
    func patchHeader(now: ContinuousClock.Instant) {
        flush(now: now)
        guard let file else { return }
        do {
            try file.patchHeader()
        } catch {
            retry.failed(error, now: now)
        }
    }

    /// Writes what is left, finalises the header and closes the file.
    func close(now: ContinuousClock.Instant) {
        flush(now: now)
        do {
            try file?.close()
        } catch {
            retry.failed(error, now: now)
        }
        file = nil
    }

    /// Audio written so far, in milliseconds (the file's length).
    var durationMs: Int64 { timeline.end.multipliedSaturated(by: 1000) / Int64(max(sampleRate, 1)) }

    private func openFile() throws(WAVWriteError) -> WAVFile {
        if let file { return file }
        try RecordingFiles.makeDirectories(directory)
        let opened = try WAVFile(path: path, sampleRate: sampleRate, channels: channels, keepingData: continuesFile)
        file = opened
        return opened
    }
}
