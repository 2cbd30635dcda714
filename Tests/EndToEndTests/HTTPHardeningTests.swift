import Foundation
import RelayTesting
import Testing

/// Security review findings #4 (slowloris, descriptors) and #8 (log injection), against the real binary.
@Suite("HTTP hardening through the real binary", .serialized, .timeLimit(.minutes(3)))
struct HTTPHardeningTests {
    /// Starts `rtms-relay serve` on a free port with `server:` extras and `rest` after it; waits until it listens.
    func serve(server: String = "", _ rest: String = "sinks: {}\n", descriptorLimit: Int? = nil, arguments: [String] = []) async throws -> (RelayProcess, Int) {
        let directory = try RelayProcess.makeTemporaryDirectory()
        let port = try freeLoopbackPort()
        try "server:\n  host: 127.0.0.1\n  port: \(port)\n\(server)\(rest)".write(to: directory.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        let relay = try RelayProcess(["serve", "--config", "config.yaml"] + arguments, directory: directory, descriptorLimit: descriptorLimit)
        try await waitUntil(timeout: .seconds(30), "the relay to listen (log: \(relay.stderr.suffix(600)))") { relay.stderr.contains("listening on") }
        return (relay, port)
    }

    func stop(_ relay: RelayProcess) async throws {
        relay.signal(SIGTERM)
        _ = try await relay.waitForExit(timeout: .seconds(10))
    }

    func metric(_ name: String, port: Int) throws -> Int? {
        let text = try RawHTTPConnection.exchange(port: port, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n").text
        return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Int($0.split(separator: " ").last ?? "") }
    }

    @Test("security #4: half-sent requests (slowloris) are closed after header_timeout_seconds; over max_connections a client is closed at once and counted")
    func slowloris() async throws {
        let (relay, port) = try await serve(server: "  header_timeout_seconds: 2\n  max_connections: 20\n")
        let opened = ContinuousClock.now
        let slow = try (0..<20).map { _ in try RawHTTPConnection(port: port) }
        for (index, connection) in slow.enumerated() where index % 2 == 0 {
            connection.write("GET /health HTTP/1.1\r\nHost: localho")
        }
        try await Task.sleep(for: .milliseconds(500))
        // All 20 slots are taken: the 21st is closed before it can send anything.
        let extra = try RawHTTPConnection(port: port)
        #expect(extra.waitForClose(timeout: .seconds(1)), "a connection over the cap was not closed at once")
        #expect(extra.text.isEmpty)
        // The slow ones are closed once the header timeout has passed, not before.
        for connection in slow {
            #expect(connection.waitForClose(timeout: .seconds(8)), "a half-sent request was still open after \(ContinuousClock.now - opened)")
        }
        let elapsed = ContinuousClock.now - opened
        #expect(elapsed >= .milliseconds(1900) && elapsed < .seconds(6), "closed after \(elapsed)")
        // With the slots free again a new client is served.
        let health = try RawHTTPConnection.exchange(port: port, "GET /health HTTP/1.1\r\nHost: localhost\r\n")
        // Served (503 not_ready: this config has no Zoom secrets).
        #expect(health.status == 503 && health.text.contains(#""status":"not_ready""#), "\(health.text)")
        #expect(try metric("rtms_relay_http_connections_refused_total", port: port) ?? 0 >= 1)
        #expect(try metric(#"rtms_relay_http_request_timeouts_total{phase="header"}"#, port: port) == 20)
        try await stop(relay)
    }

    @Test("security #4: the live event stream outlives idle, header and body timeouts while it is sending")
    func eventStreamSurvives() async throws {
        let (relay, port) = try await serve(
            server: "  access_token: operator-token\n  idle_timeout_seconds: 1\n  header_timeout_seconds: 1\n  body_timeout_seconds: 1\n",
            "sinks:\n  page: {type: web, heartbeat_seconds: 0.5}\n"
        )
        let stream = try RawHTTPConnection(port: port)
        stream.write("GET /api/events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\nAuthorization: Bearer operator-token\r\n\r\n")
        #expect(!stream.waitForClose(timeout: .seconds(4)), "the event stream was closed: \(stream.text)")
        #expect(stream.status == 200)
        #expect(stream.text.components(separatedBy: "heartbeat").count > 3)
        try await stop(relay)
    }

    @Test("security #4: with 128 descriptors and the HTTP cap saturated by idle clients, Zoom's RTMS stream still connects")
    func descriptorsForIngest() async throws {
        let simulatorHTTP = try freeLoopbackPort()
        let (relay, port) = try await serve(
            server: "  header_timeout_seconds: 300\n",
            ShutdownTests.zoomSection(simulatorHTTP: simulatorHTTP) + "\ntoken_store: {path: relay.sqlite}\nsinks: {recordings: {type: wav, directory: recordings}}\n",
            descriptorLimit: 128
        )
        // Hold far more connections than the relay may serve: the cap (128 - 64 reserved) closes the rest at once.
        var held: [RawHTTPConnection] = []
        for _ in 0..<150 {
            guard let connection = try? RawHTTPConnection(port: port) else { break }
            held.append(connection)
        }
        try await Task.sleep(for: .milliseconds(500))
        let cap = 64
        // Drop our ends of the connections the relay refused; it holds only `cap` of them.
        held.removeAll { $0.waitForClose(timeout: .milliseconds(1)) }
        #expect(held.count == cap)
        // Zoom's webhooks need an HTTP slot too: free a few, and keep the rest of the cap saturated.
        held.removeFirst(min(4, held.count))
        let simulatorDirectory = relay.directory.appendingPathComponent("simulator")
        try FileManager.default.createDirectory(at: simulatorDirectory, withIntermediateDirectories: true)
        let simulator = try RelayProcess(ShutdownTests.simulatorArguments(relayPort: port, simulatorHTTP: simulatorHTTP, calls: 1), directory: simulatorDirectory)
        try await waitUntil(timeout: .seconds(30), "a recording to start (relay log: \(relay.stderr.suffix(1500)))") {
            let files = FileManager.default.enumerator(atPath: relay.directory.appendingPathComponent("recordings").path)?.allObjects as? [String] ?? []
            return files.contains { $0.hasSuffix(".wav") }
        }
        #expect(!relay.stderr.contains("Too many open files"), "\(relay.stderr.suffix(2000))")
        held.removeAll()
        try await Task.sleep(for: .milliseconds(300))
        #expect(try RawHTTPConnection.exchange(port: port, "GET /health HTTP/1.1\r\nHost: localhost\r\n").status == 200)
        simulator.signal(SIGTERM)
        _ = try await simulator.waitForExit(timeout: .seconds(10))
        try await stop(relay)
    }

    @Test("security #8: a newline in the OAuth callback's ?error= cannot forge a log line, and long values are cut")
    func logInjection() async throws {
        let (relay, port) = try await serve("zoom: {client_id: cid, client_secret: secret, oauth_url: 'http://127.0.0.1:9', api_url: 'http://127.0.0.1:9/v2'}\ntoken_store: {path: relay.sqlite}\nsinks: {}\n")
        let forged = "2030-01-01T00:00:00+0000 info rtms-relay: account=FORGED [RelayServer] connected to Zoom"
        let encoded = forged.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let callback = try RawHTTPConnection.exchange(port: port, "GET /api/auth/callback?error=x%0A\(encoded)%0D%0A\(encoded) HTTP/1.1\r\nHost: localhost\r\n")
        #expect(callback.status == 302)
        let long = String(repeating: "A", count: 5000)
        _ = try RawHTTPConnection.exchange(port: port, "GET /api/auth/callback?error=\(long) HTTP/1.1\r\nHost: localhost\r\n")
        try await waitUntil(timeout: .seconds(5), "both callbacks logged") { relay.stderr.components(separatedBy: "Zoom authorization declined").count == 3 }
        try await stop(relay)
        let lines = relay.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(!lines.contains { $0.hasPrefix("2030-01-01") || $0.hasPrefix("\r2030") }, "a forged line: \(relay.stderr)")
        #expect(!relay.stderr.contains("\r"))
        #expect(relay.stderr.contains(#"error=x\n2030-01-01T00:00:00+0000 info rtms-relay: account=FORGED"#))
        let longLine = try #require(lines.first { $0.contains("error=AAAA") })
        #expect(longLine.contains(String(repeating: "A", count: 511) + "…"))
        #expect(!longLine.contains(String(repeating: "A", count: 513)))
    }
}
