#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Repairs what a crash (SIGKILL, power loss) leaves in a WAV sink's folder: headers that lag their data and
/// `stream.json` manifests that still say `recording`.
///
/// The sink patches header sizes once a second, so after a crash a file can hold more samples than its header
/// declares (or none declared at all). The repair walks `{directory}/{engagement}/{stream}[.N]/`, rewrites the
/// size fields of every `.wav` whose header does not match its size (the header layout is `WAVHeader`'s; a torn
/// trailing sample frame is cut off, whole frames are kept), and marks manifests still `recording` as
/// `interrupted` with durations from the repaired files.
///
/// It must never run on files being written: `WAVSink.start()` runs it once, on the process's first start, before
/// the sink opens anything; `rtms-relay repair-recordings` must not be pointed at a folder a running relay writes.
/// Files that are not WAVs this sink writes (another RIFF layout, bad magic) are reported and left alone.
public enum RecordingRepair {
    /// One WAV whose header was (or, in a dry run, would be) rewritten.
    public struct RepairedFile: Sendable, Equatable {
        public var path: String
        /// Data bytes the header declared, and declares after the repair.
        public var dataBytesBefore: Int
        public var dataBytesAfter: Int
        /// The file's size before and after (smaller only when a torn trailing frame was cut off).
        public var fileBytesBefore: Int
        public var fileBytesAfter: Int
    }

    /// A file or manifest the repair could not read or would not touch, and why.
    public struct Problem: Error, Sendable, Equatable {
        public var path: String
        public var reason: String
    }

    public struct Report: Sendable, Equatable {
        /// `.wav` files looked at.
        public var scannedFiles = 0
        public var repaired: [RepairedFile] = []
        /// Paths of the `stream.json` files set from `recording` to `interrupted`.
        public var closedManifests: [String] = []
        public var problems: [Problem] = []
    }

    /// The state and message a manifest left `recording` by a crash gets.
    public static let interruptedState = "interrupted"
    public static let interruptedMessage = "interrupted by restart"

    /// Scans `directory` and repairs it; with `dryRun`, only reports what it would do. A missing directory is an
    /// empty report.
    public static func run(directory: String, dryRun: Bool = false) -> Report {
        var report = Report()
        let files = FileManager.default
        for engagement in ((try? files.contentsOfDirectory(atPath: directory)) ?? []).sorted() {
            let engagementPath = directory + "/" + engagement
            for stream in ((try? files.contentsOfDirectory(atPath: engagementPath)) ?? []).sorted() {
                let folder = engagementPath + "/" + stream
                var dataBytes: [String: (bytes: Int, header: WAVHeader)] = [:]
                for name in ((try? files.contentsOfDirectory(atPath: folder)) ?? []).sorted() where name.lowercased().hasSuffix(".wav") {
                    report.scannedFiles += 1
                    let path = folder + "/" + name
                    switch repairFile(path, dryRun: dryRun) {
                    case .success(let result):
                        dataBytes[name] = (result.dataBytes, result.header)
                        if let repaired = result.repaired { report.repaired.append(repaired) }
                    case .failure(let problem):
                        report.problems.append(problem)
                    }
                }
                closeManifest(in: folder, dataBytes: dataBytes, dryRun: dryRun, into: &report)
            }
        }
        return report
    }

    private struct FileResult {
        var header: WAVHeader
        /// Data bytes the header declares after the repair.
        var dataBytes: Int
        var repaired: RepairedFile?
    }

    private static func repairFile(_ path: String, dryRun: Bool) -> Result<FileResult, Problem> {
        func problem(_ reason: String) -> Result<FileResult, Problem> { .failure(Problem(path: path, reason: reason)) }
        let descriptor = open(path, (dryRun ? O_RDONLY : O_RDWR) | O_CLOEXEC)
        guard descriptor >= 0 else { return problem(WAVWriteError("open", path).reason) }
        defer { close(descriptor) }
        let header: WAVHeader, size: Int
        switch RecordingFiles.ownHeader(descriptor: descriptor, path: path) {
        case .success(let file): (header, size) = file
        case .failure(let layout): return problem(layout.reason)
        }
        let onDisk = size - WAVHeader.size
        // Whole sample frames only, and no more than a 32-bit RIFF size can declare.
        let limit = Int(UInt32.max) - 36
        let whole = min(onDisk, limit) - min(onDisk, limit) % header.blockAlign
        guard whole != header.dataBytes || header.riffSize != 36 + whole || whole != onDisk else {
            return .success(FileResult(header: header, dataBytes: whole))
        }
        let repaired = RepairedFile(path: path, dataBytesBefore: header.dataBytes, dataBytesAfter: whole,
                                    fileBytesBefore: size, fileBytesAfter: WAVHeader.size + whole)
        if !dryRun {
            if whole != onDisk, ftruncate(descriptor, off_t(WAVHeader.size + whole)) != 0 {
                return problem(WAVWriteError("truncate", path).description)
            }
            let bytes = WAVHeader(sampleRate: header.sampleRate, channels: header.channels, bitsPerSample: header.bitsPerSample, dataBytes: whole).encoded()
            let written = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
            guard written == bytes.count else { return problem(WAVWriteError("write the header of", path).description) }
            _ = fsync(descriptor)
        }
        return .success(FileResult(header: header, dataBytes: whole, repaired: repaired))
    }

    /// Sets a manifest still `recording` to `interrupted`, with each channel's duration from its file.
    private static func closeManifest(in folder: String, dataBytes: [String: (bytes: Int, header: WAVHeader)], dryRun: Bool, into report: inout Report) {
        let path = folder + "/stream.json"
        guard let data = FileManager.default.contents(atPath: path) else { return }
        var manifest: StreamManifest
        do {
            manifest = try StreamManifest.decode(data)
        } catch {
            report.problems.append(Problem(path: path, reason: "not a stream manifest: \(error)"))
            return
        }
        guard manifest.state == "recording" else { return }
        manifest.state = interruptedState
        manifest.stopMessage = interruptedMessage
        for index in manifest.channels.indices {
            guard let file = dataBytes[manifest.channels[index].file], file.header.sampleRate > 0 else { continue }
            let frames = Int64(file.bytes / file.header.blockAlign)
            manifest.channels[index].durationMs = frames * 1000 / Int64(file.header.sampleRate)
        }
        if !dryRun {
            do {
                try RecordingFiles.writeAtomically(manifest.encoded(), to: path)
            } catch {
                report.problems.append(Problem(path: path, reason: error.description))
                return
            }
        }
        report.closedManifests.append(path)
    }
}
