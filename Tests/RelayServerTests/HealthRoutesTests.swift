import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import RelayCore
import RelayServer
import RelayTesting
import Testing
import ZoomAPI
import ZoomWebhooks

@Suite("HTTP server: health, metrics, errors, limits")
struct HealthRoutesTests {
    static let yaml = """
        server:
          max_body_bytes: 1024
        zoom: {client_id: cid, client_secret: secret, webhook_secret: wh, oauth_url: 'http://127.0.0.1:9', api_url: 'http://127.0.0.1:9/v2'}
        token_store: {path: \(FileManager.default.temporaryDirectory.path)/health-tokens-\(UUID().uuidString).sqlite}
        sinks:
          first:
            type: recording
          second:
            type: recording
            queue: {capacity: 5, overflow: drop_oldest}
        """

    func makeRelay(yaml: String = Self.yaml) throws -> Relay {
        var registry = SinkRegistry()
        registry.register(RecordingSink.self)
        let configuration = try ConfigLoader(registry: registry, environment: [:]).parse(yaml: yaml, file: "test.yaml", environment: [:])
        return try Relay(configuration: configuration, sinkRegistry: registry, logger: Logger(label: "test"))
    }

    func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
    }

    @Test("/health reports every sink's counters and ok")
    func healthOK() async throws {
        let relay = try makeRelay()
        try await relay.makeApplication().test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                let body = try json(response.body)
                #expect(body["status"] as? String == "ok")
                #expect(body["version"] as? String == RelayVersion.current)
                #expect(body["streams"] as? Int == 0)
                let sinks = try #require(body["sinks"] as? [String: [String: Any]])
                #expect(Set(sinks.keys) == ["first", "second"])
                #expect(sinks["second"]?["capacity"] as? Int == 5)
                #expect(sinks["second"]?["overflow"] as? String == "drop_oldest")
                #expect(sinks["first"]?["type"] as? String == "recording")
            }
        }
    }

    @Test("/health is 503 not_ready, naming the keys, while Zoom credentials are missing; it says whether an account is connected and counts verified webhooks")
    func healthNotReady() async throws {
        let bare = try makeRelay(yaml: "sinks: {first: {type: recording}}\n")
        try await bare.makeApplication().test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try json(response.body)
                #expect(body["status"] as? String == "not_ready")
                let zoom = try #require(body["zoom"] as? [String: Any])
                #expect(zoom["credentials"] as? String == "missing zoom.client_id, zoom.client_secret, zoom.webhook_secret: webhooks and RTMS streams are refused")
                #expect((zoom["token"] as? String)?.hasPrefix("off: ") == true)
                #expect(zoom["webhooks_seen"] as? Int == 0)
            }
        }
        let configured = try makeRelay()
        try await configured.makeApplication().test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                let zoom = try #require(try json(response.body)["zoom"] as? [String: Any])
                #expect(zoom["credentials"] as? String == "ok")
                #expect(zoom["token"] as? String == "no account connected: use Connect to Zoom (RTMS control needs it)")
            }
            // A signed endpoint validation is a webhook seen.
            let body = #"{"event":"endpoint.url_validation","payload":{"plainToken":"abc"},"event_ts":1}"#
            let timestamp = "\(Int(Date().timeIntervalSince1970))"
            let signature = "v0=" + HMACHex.sha256(key: "wh", message: "v0:\(timestamp):\(body)")
            try await client.execute(uri: "/api/webhooks/zoom", method: .post,
                                     headers: [.contentType: "application/json", .init("x-zm-request-timestamp")!: timestamp, .init("x-zm-signature")!: signature],
                                     body: ByteBuffer(string: body)) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/health", method: .get) { response in
                let zoom = try #require(try json(response.body)["zoom"] as? [String: Any])
                #expect(zoom["webhooks_seen"] as? Int == 1)
            }
        }
    }

    @Test("/health is 503 degraded while a sink reports trouble, and ok again after")
    func healthDegraded() async throws {
        let relay = try makeRelay()
        let sink = try #require(relay.sink("second", as: RecordingSink.self))
        sink.reportHealth(.degraded("disk full: /data"))
        try await relay.makeApplication().test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try json(response.body)
                #expect(body["status"] as? String == "degraded")
                let sinks = try #require(body["sinks"] as? [String: [String: Any]])
                #expect(sinks["second"]?["degraded_reason"] as? String == "disk full: /data")
            }
            sink.reportHealth(.ok)
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test("queue overflow is counted but is not degradation")
    func overflowCounted() async throws {
        let relay = try makeRelay()
        // Queue more than the second sink can hold; it is not running, so its queue overflows.
        for i in 0..<8 { await relay.hub.publish(.streamResumed(reason: "r", attempt: i), engagementID: "e") }
        try await relay.makeApplication().test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                // Dropping alone is not degradation.
                #expect(response.status == .ok)
                let sinks = try #require(json(response.body)["sinks"] as? [String: [String: Any]])
                #expect(sinks["second"]?["dropped"] as? Int == 3)
                #expect(sinks["second"]?["depth"] as? Int == 5)
            }
        }
    }

    @Test("/metrics is Prometheus text with per-sink queue numbers")
    func metrics() async throws {
        let relay = try makeRelay()
        for i in 0..<8 { await relay.hub.publish(.streamResumed(reason: "r", attempt: i), engagementID: "e") }
        try await relay.makeApplication().test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let text = String(buffer: response.body)
                #expect(text.contains(#"rtms_relay_sink_dropped_total{sink="second",type="recording"} 3"#))
                #expect(text.contains(#"rtms_relay_sink_queue_depth{sink="first",type="recording"} 8"#))
                #expect(text.contains("# TYPE rtms_relay_sink_delivered_total counter"))
                #expect(text.contains("rtms_relay_streams_active 0"))
                #expect(text.contains("# TYPE rtms_relay_audio_latency_seconds histogram"))
                #expect(text.contains(#"rtms_relay_audio_latency_seconds_bucket{sink="first",type="recording",le="+Inf"} 0"#))
                #expect(text.contains("rtms_relay_webhooks_total{outcome=\"accepted\"} 0"))
            }
        }
    }

    @Test("an unknown route is a JSON 404")
    func notFound() async throws {
        try await makeRelay().makeApplication().test(.router) { client in
            try await client.execute(uri: "/no/such/route", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                #expect(String(buffer: response.body) == #"{"error":"not found"}"#)
            }
        }
    }

    @Test("a body over max_body_bytes is a JSON 413")
    func bodyTooLarge() async throws {
        try await makeRelay().makeApplication().test(.live) { client in
            try await client.execute(uri: "/api/webhooks/zoom", method: .post, body: ByteBuffer(repeating: 0x41, count: 2048)) { response in
                #expect(response.status == .contentTooLarge)
                #expect(String(buffer: response.body) == #"{"error":"request body over 1024 bytes"}"#)
            }
        }
    }
}
