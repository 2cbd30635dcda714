import AsyncHTTPClient
import Foundation
import NIOCore
import RelayCore
import RelayTesting
import Testing
import ZoomAPI
import ZoomWebhooks

/// Ten thousand webhook requests from several clients at once while calls stream.
@Suite("Faults: a webhook flood while calls stream", .serialized, .timeLimit(.minutes(5)))
struct WebhookFloodTests {
    static let requests = 10_000
    static let clients = 8

    /// One request of the flood and the answer it must get.
    enum Kind: CaseIterable { case validation, unknownEvent, duplicate, forged, stale }

    @Test("10,000 signed (and some forged) webhooks from 8 concurrent clients: every one answered correctly, calls unaffected")
    func flood() async throws {
        try await RelayHarness.run { h in
            let calls = try await h.startCalls(3, framesEach: 10)
            let verifier = WebhookVerifier(secretToken: RelayHarness.webhookSecret)
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(connectionPool: .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: Self.clients)))
            defer { _ = client.shutdown() }
            let started = ContinuousClock.now
            let wrong = try await withThrowingTaskGroup(of: [String].self) { group in
                for worker in 0..<Self.clients {
                    group.addTask {
                        var wrong: [String] = []
                        for n in stride(from: worker, to: Self.requests, by: Self.clients) {
                            let kind = Kind.allCases[n % Kind.allCases.count]
                            let now = Int64(Date().timeIntervalSince1970)
                            let body: String
                            switch kind {
                            case .validation: body = #"{"event":"endpoint.url_validation","payload":{"plainToken":"token-\#(n)"},"event_ts":\#(now * 1000)}"#
                            // The same delivery for every duplicate: the first is acted on, the rest are answered as duplicates.
                            case .duplicate: body = #"{"event":"meeting.flood","payload":{"object":{"id":"same"}},"event_ts":1}"#
                            default: body = #"{"event":"meeting.flood","payload":{"object":{"id":"\#(n)"}},"event_ts":\#(now * 1000 + Int64(n))}"#
                            }
                            let timestamp = kind == .stale ? now - 3600 : now
                            var signature = verifier.signature(timestamp: String(timestamp), body: Array(body.utf8))
                            if kind == .forged { signature = "v0=" + String(repeating: "0", count: 64) }
                            var request = HTTPClientRequest(url: h.webhookURL)
                            request.method = .POST
                            request.headers.add(name: "content-type", value: "application/json")
                            request.headers.add(name: "x-zm-request-timestamp", value: String(timestamp))
                            request.headers.add(name: "x-zm-signature", value: signature)
                            request.body = .bytes(ByteBuffer(string: body))
                            let response = try await client.execute(request, timeout: .seconds(30))
                            let answer = String(buffer: try await response.body.collect(upTo: 1 << 16))
                            let status = Int(response.status.code)
                            let ok: Bool
                            switch kind {
                            case .validation:
                                let expected = verifier.encryptedToken(plainToken: "token-\(n)")
                                ok = status == 200 && answer.contains(#""plainToken":"token-\#(n)""#) && answer.contains(expected)
                            case .unknownEvent: ok = status == 200 && answer == #"{"received":true}"#
                            case .duplicate: ok = status == 200 && answer.hasPrefix(#"{"received":true"#)
                            case .forged, .stale: ok = status == 401
                            }
                            if !ok { wrong.append("#\(n) \(kind): \(status) \(answer.prefix(120))") }
                        }
                        return wrong
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let elapsed = ContinuousClock.now - started
            #expect(wrong.isEmpty, "\(wrong.count) wrong answers, first: \(wrong.prefix(5))")
            // Every request counted under its outcome.
            let perKind = Double(Self.requests / Kind.allCases.count)
            #expect(try await h.metric(#"rtms_relay_webhooks_total{outcome="url_validation"}"#) == perKind)
            #expect(try await h.metric(#"rtms_relay_webhooks_total{outcome="unauthorized"}"#) == 2 * perKind)
            #expect(try await h.metric(#"rtms_relay_webhooks_total{outcome="duplicate"}"#) == perKind - 1)
            #expect(try await h.metric(#"rtms_relay_webhooks_total{outcome="ignored"}"#) == perKind + 1)
            // The calls went on undisturbed.
            for call in calls { #expect(h.events(.streamInterrupted, stream: call.stream).isEmpty) }
            let problems = try await h.stopCallsAndCheckAudio(calls)
            #expect(problems.isEmpty, "\(problems)")
            let recording = try #require(try await h.health().report.sinks["recording"])
            #expect(recording.dropped == 0 && recording.failed == 0)
            print("webhook flood: \(Self.requests) requests from \(Self.clients) clients in \(elapsed)")
        }
    }
}
