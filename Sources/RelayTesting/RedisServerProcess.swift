import Foundation
import RedisClient

/// A real `redis-server` for tests, on a free loopback port, stopped by pid (never by name).
///
/// In-memory by default (`--save "" --appendonly no`). With `persistent: true` it keeps an append-only file
/// fsynced on every write in its own directory, so a `kill()` + `restart()` keeps what Redis acknowledged —
/// the way to prove that nothing was lost across a crash.
public final class RedisServerProcess: @unchecked Sendable {
    // @unchecked: `process` is replaced only by `start()`/`restart()`, which tests call from one task.
    private var process: Process?
    public let port: Int
    public let directory: URL
    public let persistent: Bool
    public let password: String?

    /// `redis://[:password@]127.0.0.1:port/0`.
    public var url: String {
        "redis://\(password.map { ":\($0)@" } ?? "")127.0.0.1:\(port)/0"
    }

    /// Starts a server and waits until it answers `PING`.
    public init(persistent: Bool = false, password: String? = nil) async throws {
        port = try freeLoopbackPort()
        // On tmpfs when there is one: the append-only file survives killing redis-server (what the tests
        // simulate), and fsync costs nothing, so other tests' disks are left alone.
        let base = FileManager.default.isWritableFile(atPath: "/dev/shm") ? URL(fileURLWithPath: "/dev/shm") : FileManager.default.temporaryDirectory
        directory = base.appendingPathComponent("redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.persistent = persistent
        self.password = password
        try await start()
    }

    /// Runs `body` with a fresh server and stops it afterwards, whatever happens.
    public static func withServer<T>(persistent: Bool = false, password: String? = nil, _ body: (RedisServerProcess) async throws -> T) async throws -> T {
        let server = try await RedisServerProcess(persistent: persistent, password: password)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    deinit {
        if let process, process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts `redis-server` on `port` (again, after `kill()`), and waits until it answers.
    public func start(timeout: Duration = .seconds(20)) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        var arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--dir", directory.path, "--save", "", "--daemonize", "no", "--loglevel", "warning"]
        arguments += persistent ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]
        if let password { arguments += ["--requirepass", password] }
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let probe = RedisConnection(url: RedisURL(port: port, password: password), connectTimeout: .milliseconds(500), commandTimeout: .seconds(2))
        let deadline = ContinuousClock.now + timeout
        while true {
            if let reply = try? await probe.send("PING"), reply == .status("PONG") { break }
            guard process.isRunning, ContinuousClock.now < deadline else {
                throw RedisServerError("redis-server on port \(port) did not answer PING (is redis-server installed? apt-get install redis-server)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        await probe.close()
    }

    /// Kills the server with `signal` (SIGKILL: a crash) and waits until it is gone. Children of the test
    /// runner inherit its blocked signals (SIGTERM among them), so anything but SIGKILL is followed by
    /// SIGKILL after a few seconds.
    public func kill(_ signal: Int32 = SIGKILL) async {
        guard let process else { return }
        Foundation.kill(process.processIdentifier, signal)
        let deadline = ContinuousClock.now + .seconds(5)
        while process.isRunning {
            if ContinuousClock.now > deadline { Foundation.kill(process.processIdentifier, SIGKILL) }
            try? await Task.sleep(for: .milliseconds(20))
        }
        self.process = nil
    }

    /// Stops the server (it keeps nothing worth a graceful shutdown) and removes its directory.
    public func stop() async {
        await kill(SIGKILL)
        try? FileManager.default.removeItem(at: directory)
    }

    static var executable: String {
        for candidate in ["/usr/bin/redis-server", "/usr/local/bin/redis-server", "/opt/homebrew/bin/redis-server"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "/usr/bin/redis-server"
    }
}

/// The test Redis could not be started.
public struct RedisServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
