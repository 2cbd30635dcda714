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
        let connection: RawHTTPConnection
        var localPort: Int { connection.localPort }

        init(port: Int) throws {
            connection = try RawHTTPConnection(port: port, receiveBuffer: 4096)
            connection.write("GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
        }
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
            // What the reading browser got: every message's id (the broadcaster numbers each message it sends, so
            // a reader that is not cut off sees them without a hole) and the streams it saw stop.
            let received = NIOLockedValueBox((messages: 0, ids: [UInt64](), stopped: [String](), text: ""))
            let reader = Task {
                for try await chunk in response.body {
                    received.withLockedValue { state in
                        state.text += String(buffer: chunk)
                        while let end = state.text.range(of: "\n\n") {
                            let lines = state.text[..<end.lowerBound].split(separator: "\n")
                            if let id = lines.first(where: { $0.hasPrefix("id: ") }).flatMap({ UInt64($0.dropFirst(4)) }) {
                                state.messages += 1
                                state.ids.append(id)
                            }
                            if lines.contains("event: stream"), let data = lines.first(where: { $0.hasPrefix("data: ") }),
                               let object = try? JSONSerialization.jsonObject(with: Data(data.dropFirst(6).utf8)) as? [String: Any],
                               object["type"] as? String == "stream.stopped", let stream = object["stream_id"] as? String {
                                state.stopped.append(stream)
                            }
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
            try #require(FileManager.default.isReadableFile(atPath: "/proc/net/tcp"), "the socket check needs /proc/net/tcp")
            try await waitUntil(timeout: .seconds(30), "the relay to close the stalled socket (\(String(describing: Self.serverSocket(relayPort: h.relayPort, clientPort: stalled.localPort))))") {
                Self.serverSocket(relayPort: h.relayPort, clientPort: stalled.localPort)?.open != true
            }
            let before = received.withLockedValue { $0.messages }
            try await h.waitForAudio(stream: calls[0].stream, perChannel: (h.audio(stream: calls[0].stream)["1"]?.count ?? 0) + 50)
            #expect(received.withLockedValue { $0.messages } > before + 100, "the reading browser stopped receiving")
            let problems = try await h.stopCallsAndCheckAudio(calls)
            #expect(problems.isEmpty, "\(problems)")
            try await waitUntil(timeout: .seconds(30), "the reading browser to see both streams stop (\(received.withLockedValue { $0.stopped }))") {
                received.withLockedValue { $0.stopped.count } >= 2
            }
            #expect(Set(received.withLockedValue { $0.stopped }) == Set(calls.map(\.stream)), "the reading browser's stream.stopped events")
            let ids = received.withLockedValue { $0.ids }
            let holes = zip(ids, ids.dropFirst()).filter { $1 != $0 + 1 }
            #expect(!ids.isEmpty && holes.isEmpty, "ids the reading browser missed: \(holes.prefix(5)) of \(ids.count) messages")
            let page = try #require(try await h.health().report.sinks["page"])
            #expect(page.dropped == 0 && page.failed == 0)
            #expect(broadcaster.disconnectedSlowClients == 1)
        }
    }
}
