import AsyncHTTPClient
import BuiltInSinks
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import RelayCore
import RelayTesting
import Testing
import WebSink

/// A browser that opens the live feed and never reads it.
@Suite("Faults: a browser that never reads its event stream", .serialized, .timeLimit(.minutes(3)))
struct BrowserFaultTests {
    /// A TCP client that sends `GET /api/events` and then never reads, with a tiny receive window.
    final class StalledClient {
        let fd: Int32
        let localPort: Int

        init(port: Int) throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            self.fd = fd
            var size: Int32 = 4096
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw SetupError(description: "cannot connect to the relay on port \(port): errno \(errno)") }
            var local = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            self.localPort = Int(UInt16(bigEndian: local.sin_port))
            let request = Array("GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".utf8)
            _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        }

        deinit { close(fd) }
    }

    /// The relay's end of a loopback connection in /proc/net/tcp: its state and whether a file descriptor still
    /// holds it (inode 0 means the relay closed it and only the kernel is finishing it off), and its send queue.
    static func serverSocket(relayPort: Int, clientPort: Int) -> (open: Bool, sendQueue: Int)? {
        guard let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return nil }
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 9 else { continue }
            func port(_ field: Substring) -> Int? { field.split(separator: ":").last.flatMap { Int($0, radix: 16) } }
            guard port(fields[1]) == relayPort, port(fields[2]) == clientPort else { continue }
            let sendQueue = fields[4].split(separator: ":").first.flatMap { Int($0, radix: 16) } ?? 0
            return (fields[9] != "0", sendQueue)
        }
        return nil
    }

    @Test("a stalled SSE client is disconnected and its socket closed; another browser and the sinks get everything")
    func stalledBrowser() async throws {
        // A status line per audio chunk, so the stalled socket fills within seconds.
        let yaml = "  page: {type: web, status_every_chunks: 1, client_buffer: 50, heartbeat_seconds: 1}"
        try await RelayHarness.run(sinks: BuiltInSinks.registry, sinksYAML: yaml) { h in
            let broadcaster = try #require(h.relay.eventStreamSource as? EventBroadcaster)
            // A browser that reads.
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: h.baseURL + "/api/events"), timeout: .seconds(170))
            #expect(response.status == .ok)
            let received = NIOLockedValueBox((messages: 0, text: ""))
            let reader = Task {
                for try await chunk in response.body {
                    received.withLockedValue { state in
                        state.text += String(buffer: chunk)
                        while let end = state.text.range(of: "\n\n") {
                            if state.text[..<end.lowerBound].contains("id: ") { state.messages += 1 }
                            state.text.removeSubrange(..<end.upperBound)
                        }
                    }
                }
            }
            defer { reader.cancel() }
            let stalled = try StalledClient(port: h.relayPort)
            try await waitUntil(timeout: .seconds(10), "both browsers subscribed") { broadcaster.subscriberCount == 2 }

            let calls = try await h.startCalls(2, framesEach: 10)
            try await waitUntil(timeout: .seconds(60), "the stalled browser dropped (subscribers \(broadcaster.subscriberCount))") {
                broadcaster.disconnectedSlowClients >= 1
            }
            #expect(broadcaster.subscriberCount == 1)
            // The relay lets go of the socket too: no task or descriptor stays behind for a browser that never reads.
            try await waitUntil(timeout: .seconds(30), "the relay to close the stalled socket (\(String(describing: Self.serverSocket(relayPort: h.relayPort, clientPort: stalled.localPort))))") {
                Self.serverSocket(relayPort: h.relayPort, clientPort: stalled.localPort)?.open != true
            }
            let before = received.withLockedValue { $0.messages }
            try await h.waitForAudio(stream: calls[0].stream, perChannel: (h.audio(stream: calls[0].stream)["1"]?.count ?? 0) + 50)
            #expect(received.withLockedValue { $0.messages } > before + 100, "the reading browser stopped receiving")
            let problems = try await h.stopCallsAndCheckAudio(calls)
            #expect(problems.isEmpty, "\(problems)")
            try await waitUntil(timeout: .seconds(10), "the reading browser to see both streams stop") {
                received.withLockedValue { $0.messages } > 0 && h.sink.events.filter { $0.type == .streamStopped }.count == 2
            }
            let page = try #require(try await h.health().report.sinks["page"])
            #expect(page.dropped == 0 && page.failed == 0)
            #expect(broadcaster.disconnectedSlowClients == 1)
        }
    }
}
