import Foundation
import Logging
import RelayCore
import RelayTesting
@testable import WAVSink

/// A fresh directory under /tmp, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "wavsink-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A WAV sink writing under `directory`, with the context to read its health.
func makeSink(directory: String, mix: WAVSinkOptions.Mix = .none) -> (WAVSink, SinkContext) {
    let context = SinkContext(id: "qa", logger: Logger(label: "test"))
    return (WAVSink(options: WAVSinkOptions(directory: directory, mix: mix), context: context), context)
}

/// A parsed WAV file: its header and the data bytes the header declares.
struct WAVContents {
    var header: WAVHeader
    var data: [UInt8]
    var fileSize: Int

    init(path: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        header = try WAVHeader.parse(bytes)
        fileSize = bytes.count
        let end = min(bytes.count, header.dataOffset + header.dataBytes)
        data = Array(bytes[header.dataOffset..<end])
    }
}

/// Zero bytes standing for `frames` frames of silence.
func silence(frames: Int, audio: DeterministicAudio, channels: Int = 1) -> [UInt8] {
    [UInt8](repeating: 0, count: frames * audio.samplesPerFrame * 2 * channels)
}

func stopped(_ engagement: String, _ stream: String, code: Int = 1, name: String = "STOP_BC_HOST_TRIGGERED", at time: Int64 = 1_764_000_100_000) -> StreamEvent {
    StreamEvent(timeMillis: time, engagementID: engagement, streamID: stream, kind: .streamStopped(StopReason(code: code, name: name)))
}

/// Every file under `path`, relative to it.
func filesUnder(_ path: String) -> [String] {
    (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? []).sorted()
}

/// A small tmpfs mounted for a test (we run as root in CI), to fill up or make read-only for real.
struct TinyFilesystem {
    let path: String

    /// Mounts `size` bytes of tmpfs at a new directory, or returns nil with the reason when mounting is not
    /// possible here (not root, no tmpfs).
    static func mount(size: Int) -> Result<TinyFilesystem, MountError> {
        let path = NSTemporaryDirectory() + "wavsink-tmpfs-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let status = run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path])
        guard status == 0 else { return .failure(MountError(description: "mount -t tmpfs exited \(status)")) }
        return .success(TinyFilesystem(path: path))
    }

    func remount(readOnly: Bool) -> Bool {
        Self.run("/bin/mount", ["-o", readOnly ? "remount,ro" : "remount,rw", path]) == 0
    }

    func unmount() {
        _ = Self.run("/bin/umount", [path])
        try? FileManager.default.removeItem(atPath: path)
    }

    static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return -1
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    struct MountError: Error, CustomStringConvertible {
        var description: String
    }
}
