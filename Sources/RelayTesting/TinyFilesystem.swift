import Foundation

/// A small tmpfs mounted for a test (we run as root in CI), to fill up or make read-only for real: writes on it
/// fail with the kernel's own ENOSPC and EROFS. `chmod` cannot do this for root, hence a mount.
public struct TinyFilesystem: Sendable {
    public let path: String

    /// Whether tmpfs can be mounted here (root in a container that allows mounts); probed once. Tests that need
    /// a real full or read-only disk are skipped with that reason when it cannot.
    public static let isAvailable: Bool = {
        guard case .success(let probe) = mount(size: 64 * 1024) else { return false }
        probe.unmount()
        return true
    }()

    /// Mounts `size` bytes of tmpfs at a new directory, or says why mounting is not possible here (not root,
    /// no tmpfs, mounts forbidden in the container).
    public static func mount(size: Int) -> Result<TinyFilesystem, MountError> {
        let path = NSTemporaryDirectory() + "rtms-tmpfs-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let status = run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path])
        guard status == 0 else { return .failure(MountError(description: "mount -t tmpfs exited \(status)")) }
        return .success(TinyFilesystem(path: path))
    }

    public func remount(readOnly: Bool) -> Bool {
        Self.run("/bin/mount", ["-o", readOnly ? "remount,ro" : "remount,rw", path]) == 0
    }

    public func unmount() {
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

    public struct MountError: Error, CustomStringConvertible {
        public var description: String
    }
}
