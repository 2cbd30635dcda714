#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few filesystem operations the WAV sink needs besides writing samples, with errno-based errors so
/// `/health` can say "Permission denied" or "No space left on device".
enum RecordingFiles {
    /// `mkdir -p`.
    static func makeDirectories(_ path: String) throws(WAVWriteError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw WAVWriteError("create the directory", prefix)
            }
        }
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Writes `bytes` to a temporary file and renames it over `path`, so readers never see half a file.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(WAVWriteError) {
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw WAVWriteError("create", temporary) }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let code = errno
        close(descriptor)
        guard written == bytes.count else {
            unlink(temporary)
            throw WAVWriteError("write", temporary, code: written < 0 ? code : ENOSPC)
        }
        guard rename(temporary, path) == 0 else { throw WAVWriteError("rename", temporary) }
    }

    /// The header of the WAV open on `descriptor`, and the file's size, when the file is in the sink's own layout
    /// (`WAVHeader`: the same bytes before the data size, data from byte 44); the reason otherwise.
    static func ownHeader(descriptor: Int32, path: String) -> Result<(header: WAVHeader, fileBytes: Int), WAVLayoutProblem> {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return .failure(WAVLayoutProblem(WAVWriteError("stat", path).reason)) }
        let size = Int(status.st_size)
        var prefix = [UInt8](repeating: 0, count: min(size, 4096))
        let got = prefix.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard got >= 0 else { return .failure(WAVLayoutProblem(WAVWriteError("read", path).reason)) }
        prefix = Array(prefix.prefix(got))
        let header: WAVHeader
        do {
            header = try WAVHeader.parse(prefix)
        } catch {
            return .failure(WAVLayoutProblem("\(error)"))
        }
        let ours = WAVHeader(sampleRate: header.sampleRate, channels: header.channels, bitsPerSample: header.bitsPerSample, dataBytes: header.dataBytes)
        guard header.dataOffset == WAVHeader.size, header.blockAlign > 0, prefix.count >= WAVHeader.size,
              Array(prefix[8..<40]) == Array(ours.encoded()[8..<40]) else {
            return .failure(WAVLayoutProblem("not a WAV file this sink writes (another header layout)"))
        }
        return .success((header, size))
    }

    /// Moves an existing recording directory out of the way (`dir.1`, `dir.2` …) so a new recording of the
    /// same stream (a relay restart, a replay) never overwrites an earlier one. Returns the new name.
    static func moveAside(_ path: String) throws(WAVWriteError) -> String? {
        guard exists(path) else { return nil }
        var index = 1
        while exists("\(path).\(index)") { index += 1 }
        guard rename(path, "\(path).\(index)") == 0 else { throw WAVWriteError("move aside", path) }
        return "\(path).\(index)"
    }
}

/// Why a file is not a WAV in the sink's own layout.
struct WAVLayoutProblem: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
