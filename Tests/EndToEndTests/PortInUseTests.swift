import Foundation
import RelayTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// An operator who starts the relay on a port something else holds gets one line naming the port and what to
/// do, and exit 1, from every command that listens: never a hang, never a stack of errors.
@Suite("a port in use, through the real binary", .serialized, .timeLimit(.minutes(2)))
struct PortInUseTests {
    /// A loopback TCP listener holding a free port until closed.
    final class HeldPort {
        let port: Int
        private let socket: Int32

        init() throws {
            let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0, listen(fd, 8) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            socket = fd
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        deinit { close(socket) }
    }

    func expectOneLine(_ arguments: [String], config: String? = nil, naming expected: String) async throws {
        let directory = try RelayProcess.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        if let config { try config.write(to: directory.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8) }
        let started = ContinuousClock.now
        let (status, _, stderr) = try await RelayProcess.run(arguments, directory: directory, timeout: .seconds(60))
        #expect(status == 1, "\(arguments[0]): exit \(status); \(stderr.suffix(1500))")
        let errors = stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1, "\(arguments[0]): \(stderr.suffix(1500))")
        #expect(errors.first?.contains(expected) == true, "\(arguments[0]): \(errors)")
        #expect(errors.first?.contains("is already in use: stop the program listening there") == true, "\(errors)")
        #expect(ContinuousClock.now - started < .seconds(30), "\(arguments[0]) took \(ContinuousClock.now - started) to give up")
    }

    @Test("serve: the port, its config key and what to do, exit 1")
    func serve() async throws {
        let held = try HeldPort()
        try await expectOneLine(["serve", "--config", "config.yaml"], config: "server: {host: 127.0.0.1, port: \(held.port)}\nsinks: {}\n",
                                naming: "error: port \(held.port) on 127.0.0.1 (server.port)")
    }

    @Test("demo: the port and --port, exit 1, instead of hanging")
    func demo() async throws {
        let held = try HeldPort()
        try await expectOneLine(["demo", "--port", "\(held.port)", "--seconds", "5"], naming: "error: port \(held.port) (--port)")
    }

    @Test("simulate: the simulator's ports, exit 1, instead of hanging")
    func simulate() async throws {
        let held = try HeldPort()
        try await expectOneLine(["simulate", "--http-port", "\(held.port)", "--calls", "0"], naming: "--http-port \(held.port)")
    }
}
