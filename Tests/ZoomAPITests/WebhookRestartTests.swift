import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RelayTesting
import Testing
import ZoomAPI
import ZoomWebhooks

/// The real binary, restarted on the same data folder: the webhook dedupe lives in the token database.
@Suite("Webhook dedupe across a restart", .serialized)
struct WebhookRestartTests {
    static let secret = "RESTARTWEBHOOKSECRET"

    func serve(_ directory: URL, port: Int) async throws -> RelayProcess {
        let relay = try RelayProcess(["serve", "--config", "config.yaml"], directory: directory)
        try await waitUntil(timeout: .seconds(30), "the relay to listen (log: \(relay.stderr.suffix(400)))") { relay.stderr.contains("listening on") }
        return relay
    }

    func post(port: Int, body: String, timestamp: String, signature: String) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/webhooks/zoom")!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(timestamp, forHTTPHeaderField: "x-zm-request-timestamp")
        request.setValue(signature, forHTTPHeaderField: "x-zm-signature")
        request.timeoutInterval = 5
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test("security #16: a signed delivery replayed after a restart (same data folder, within the tolerance) is ignored, not acted on twice")
    func replayAfterRestart() async throws {
        let directory = try RelayProcess.makeTemporaryDirectory()
        let port = try freeLoopbackPort()
        try """
            server: {host: 127.0.0.1, port: \(port)}
            zoom:
              client_id: RESTARTCLIENT
              client_secret: RESTARTSECRET
              webhook_secret: \(Self.secret)
            token_store: {path: data/relay.sqlite}
            sinks:
              log: {type: jsonl, path: data/events.jsonl}
            """.write(to: directory.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        let body = #"{"event":"contact_center.voice_rtms_stopped","event_ts":\#(Int64(Date().timeIntervalSince1970 * 1000)),"payload":{"engagement_id":"E-REPLAY","rtms_stream_id":"S-REPLAY","stop_reason":6}}"#
        let timestamp = "\(Int64(Date().timeIntervalSince1970))"
        let signature = "v0=" + HMACHex.sha256(key: Self.secret, message: "v0:\(timestamp):\(body)")

        let first = try await serve(directory, port: port)
        let delivered = try await post(port: port, body: body, timestamp: timestamp, signature: signature)
        #expect(delivered.0 == 200 && !delivered.1.contains("duplicate"), "\(delivered)")
        first.signal(SIGTERM)
        #expect(try await first.waitForExit(timeout: .seconds(15)) == 0)

        let second = try await serve(directory, port: port)
        defer { second.signal(SIGKILL) }
        let replayed = try await post(port: port, body: body, timestamp: timestamp, signature: signature)
        #expect(replayed.0 == 200)
        #expect(replayed.1.contains(#""duplicate":true"#), "the replay was accepted again: \(replayed.1)")
        // A new delivery is still accepted after the restart.
        let fresh = body.replacingOccurrences(of: "S-REPLAY", with: "S-FRESH")
        let freshSignature = "v0=" + HMACHex.sha256(key: Self.secret, message: "v0:\(timestamp):\(fresh)")
        let accepted = try await post(port: port, body: fresh, timestamp: timestamp, signature: freshSignature)
        #expect(accepted.0 == 200 && !accepted.1.contains("duplicate"), "\(accepted)")
    }
}
