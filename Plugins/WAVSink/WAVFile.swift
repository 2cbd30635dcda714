#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RelayCore

/// One WAV file being written, addressed by sample position rather than appended to.
///
/// Writing at absolute positions is what keeps a file in wall-clock time: a write past the end leaves a
/// hole that reads as zeros (silence) without the sink producing the bytes, a late frame overwrites its
/// slot in place, and after a failed write (full disk) the next write simply lands where it belongs. Only
/// the two size fields of the header change, patched by `patchHeader()`.
final class WAVFile {
    let path: String
    let sampleRate: Int
    let channels: Int
    /// Bytes per sample frame (16-bit samples × channels).
    let blockAlign: Int
    private var descriptor: Int32
    /// The furthest data byte written so far.
    private(set) var dataBytes = 0
    private var patchedDataBytes = -1

    /// Whether the sink can write `format` (16-bit PCM): 1–8 channels at 1 Hz–384 kHz. Anything else is counted
    /// as unsupported rather than trusted, so no rate or channel count an event carries can make a header field
    /// overflow, a division by zero, or a second of padding take gigabytes.
    static func canWrite(_ format: AudioFormat) -> Bool {
        (1...384_000).contains(format.sampleRate) && (1...8).contains(format.channels)
    }

    /// The sample frames a file of `channels` can address: RIFF sizes are 32-bit, so its data stays below 4 GiB.
    /// Negative positions (a frame a little before the stream's first) are placed as late frames, as far back.
    static func positions(channels: Int) -> ClosedRange<Int64> {
        let frames = (Int64(UInt32.max) - 36 - Int64(WAVHeader.size)) / Int64(2.multipliedSaturated(by: max(channels, 1)))
        return -frames...frames
    }

    /// Creates (or truncates) `path` and writes a header that declares no data yet. With `keepingData`, an existing
    /// file of this format (checked by the caller) is reopened instead, its samples kept, and writing continues
    /// after them.
    init(path: String, sampleRate: Int, channels: Int, keepingData: Bool = false) throws(WAVWriteError) {
        self.path = path
        self.sampleRate = sampleRate
        self.channels = channels
        self.blockAlign = 2.multipliedSaturated(by: max(channels, 1))
        descriptor = open(path, O_RDWR | O_CREAT | (keepingData ? 0 : O_TRUNC) | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw WAVWriteError("create", path) }
        do throws(WAVWriteError) {
            if keepingData {
                var status = stat()
                guard fstat(descriptor, &status) == 0 else { throw WAVWriteError("stat", path) }
                dataBytes = max(0, Int(status.st_size) - WAVHeader.size)
            }
            try patchHeader()
        } catch {
            closeDescriptor(descriptor)
            descriptor = -1
            throw error
        }
    }

    deinit {
        if descriptor >= 0 { closeDescriptor(descriptor) }
    }

    /// Data bytes rounded down to whole sample frames: what the header declares.
    var completeDataBytes: Int { dataBytes - dataBytes % blockAlign }

    /// Writes `bytes` at sample frame `position`. A short write (disk full) still records how far it got,
    /// so the bytes that did land stay accounted for.
    func write(_ bytes: UnsafeRawBufferPointer, atFrame position: Int64) throws(WAVWriteError) {
        var offset = Int(position) * blockAlign
        var remaining = bytes
        while !remaining.isEmpty {
            let written = pwrite(descriptor, remaining.baseAddress, remaining.count, off_t(WAVHeader.size + offset))
            if written < 0 {
                if errno == EINTR { continue }
                throw WAVWriteError("write", path)
            }
            if written == 0 { throw WAVWriteError("write", path, code: ENOSPC) }
            offset += written
            dataBytes = max(dataBytes, offset)
            remaining = UnsafeRawBufferPointer(rebasing: remaining[written...])
        }
    }

    /// Convenience for byte arrays.
    func write(_ bytes: [UInt8], atFrame position: Int64) throws(WAVWriteError) {
        // `withUnsafeBytes` does not forward typed throws, so the error is carried out by hand.
        var failure: WAVWriteError?
        bytes.withUnsafeBytes { raw in
            do throws(WAVWriteError) { try write(raw, atFrame: position) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Reads up to `count` bytes of data from sample frame `position` (fewer past the end).
    func read(count: Int, atFrame position: Int64) throws(WAVWriteError) -> [UInt8] {
        let offset = Int(position) * blockAlign
        let available = max(0, min(count, dataBytes - offset))
        guard available > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: available)
        let got = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, available, off_t(WAVHeader.size + offset)) }
        guard got >= 0 else { throw WAVWriteError("read", path) }
        return Array(bytes.prefix(got))
    }

    /// Rewrites the header's size fields if the data grew since the last patch, so a reader (or a crash)
    /// sees a valid file holding everything written up to now.
    func patchHeader() throws(WAVWriteError) {
        let declared = completeDataBytes
        guard declared != patchedDataBytes else { return }
        let header = WAVHeader(sampleRate: sampleRate, channels: channels, dataBytes: declared).encoded()
        let written = header.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        guard written == header.count else { throw WAVWriteError("write the header of", path) }
        patchedDataBytes = declared
    }

    /// Drops a torn half-sample at the end, patches the header and closes the file.
    func close() throws(WAVWriteError) {
        guard descriptor >= 0 else { return }
        defer {
            closeDescriptor(descriptor)
            descriptor = -1
        }
        if dataBytes % blockAlign != 0 {
            dataBytes = completeDataBytes
            _ = ftruncate(descriptor, off_t(WAVHeader.size + dataBytes))
        }
        try patchHeader()
    }
}

/// `close(2)`, under a name the `WAVFile.close()` method does not shadow.
private func closeDescriptor(_ descriptor: Int32) {
    _ = close(descriptor)
}
