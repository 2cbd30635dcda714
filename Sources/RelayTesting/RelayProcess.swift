import Foundation

/// The built `rtms-relay` binary run as a child process, for end-to-end tests of the real executable.
///
/// Output goes to files (read them with `stdout` / `stderr`) so a chatty child can never block on a full
/// pipe.
public final class RelayProcess: @unchecked Sendable {
    // @unchecked: `Process` is not Sendable; this wrapper is used from one test task at a time.
    public let process = Process()
    public let directory: URL
    private let stdoutURL: URL
    private let stderrURL: URL

    /// The binary next to the test bundle (`swift build` puts both in the same folder), or `$RTMS_RELAY_BIN`.
    public static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["RTMS_RELAY_BIN"] { return URL(fileURLWithPath: path) }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // On some toolchains the runner sits inside the .xctest bundle.
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("rtms-relay").path), folder.path != "/" {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("rtms-relay")
    }

    /// Starts `rtms-relay arguments…` in `directory` (a fresh temporary folder when nil). With
    /// `descriptorLimit`, the child runs under `ulimit -n` of that many descriptors (soft and hard).
    public init(_ arguments: [String], directory: URL? = nil, environment: [String: String] = [:], descriptorLimit: Int? = nil) throws {
        self.directory = try directory ?? Self.makeTemporaryDirectory()
        stdoutURL = self.directory.appendingPathComponent("stdout.log")
        stderrURL = self.directory.appendingPathComponent("stderr.log")
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        if let descriptorLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(descriptorLimit) && exec \"$0\" \"$@\"", Self.binary.path] + arguments
        } else {
            process.executableURL = Self.binary
            process.arguments = arguments
        }
        process.currentDirectoryURL = self.directory
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "RTMS_RELAY_LOG_LEVEL")
        env.merge(environment) { _, new in new }
        process.environment = env
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
    }

    /// A new empty folder under the system's temporary directory.
    public static func makeTemporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rtms-relay-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    public var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Sends a signal (SIGTERM, SIGKILL …).
    public func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the process to exit, up to `timeout`; returns its exit status, or nil if it is still running.
    public func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return nil }
            try await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
    }

    /// Runs to completion and returns (status, stdout, stderr).
    public static func run(_ arguments: [String], directory: URL? = nil, environment: [String: String] = [:], timeout: Duration = .seconds(60)) async throws -> (Int32, String, String) {
        let child = try RelayProcess(arguments, directory: directory, environment: environment)
        guard let status = try await child.waitForExit(timeout: timeout) else {
            child.signal(SIGKILL)
            throw TimeoutError(what: "rtms-relay \(arguments.joined(separator: " ")) to exit")
        }
        return (status, child.stdout, child.stderr)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// A loopback TCP port that was free a moment ago, for a server a test starts later.
///
/// Picked below the kernel's ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`): a port the kernel hands
/// out itself (bind to port 0) can be taken as the local port of any outgoing connection before the server binds
/// it, which failed suites now and then with "Address already in use". Ports below that range are only ever taken
/// by an explicit bind, and the bind here checks that no one holds it.
public func freeLoopbackPort() throws -> Int {
    let ephemeralStart = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))
        .flatMap { $0.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first.flatMap { Int($0) } } ?? 32_768
    let candidates = 20_000..<max(20_001, min(ephemeralStart, 65_536))
    for _ in 0..<200 {
        let port = Int.random(in: candidates)
        if canBindLoopback(port: port) { return port }
    }
    throw TimeoutError(what: "a free port below \(ephemeralStart)")
}

/// Whether `127.0.0.1:port` can be bound right now (without SO_REUSEADDR, so a port in TIME_WAIT counts as taken).
private func canBindLoopback(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}
