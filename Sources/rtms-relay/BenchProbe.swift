import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import ZoomSimulator

/// How long the relay takes to answer what must never wait behind ingest, measured during the bench window: a
/// signed `endpoint.url_validation` webhook (Zoom gives a webhook 3 s) and `GET /health`, one of each every
/// `interval`, from a client on an event loop of its own, as an outside caller would be.
struct ControlPlaneProbe: Sendable {
    /// Answer times in milliseconds, and the requests that failed or took longer than `timeout`.
    struct Timings: Sendable {
        var millis: [Double] = []
        var failures = 0

        func quantile(_ q: Double) -> Double? {
            guard !millis.isEmpty else { return nil }
            let sorted = millis.sorted()
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.up)) - 1)]
        }
        var max: Double? { millis.max() }
    }

    let port: Int
    let webhookSecret: String
    var interval: Duration = .milliseconds(100)
    var timeout: Duration = .seconds(3)

    /// Probes until `end`; the webhook's timings and `/health`'s.
    func run(until end: ContinuousClock.Instant) async -> (webhook: Timings, health: Timings) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = HTTPClient(eventLoopGroupProvider: .shared(group))
        var webhook = Timings()
        var health = Timings()
        let signer = WebhookSigner(secretToken: webhookSecret)
        var next = ContinuousClock.now
        while ContinuousClock.now < end {
            await time(into: &webhook) { try await validation(signer: signer, client: client) }
            await time(into: &health) {
                let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/health"), timeout: .seconds(Int64(timeout.components.seconds)))
                _ = try await response.body.collect(upTo: 1 << 20)
                return response.status.code == 200
            }
            next += interval
            if next > .now { try? await Task.sleep(until: next) }
        }
        try? await client.shutdown()
        try? await group.shutdownGracefully()
        return (webhook, health)
    }

    private func time(into timings: inout Timings, _ request: () async throws -> Bool) async {
        let start = ContinuousClock.now
        let ok = (try? await request()) ?? false
        let elapsed = ContinuousClock.now - start
        let millis = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        if ok, elapsed <= timeout { timings.millis.append(millis) } else { timings.failures += 1 }
    }

    /// One signed URL validation, answered with the right `encryptedToken`.
    private func validation(signer: WebhookSigner, client: HTTPClient) async throws -> Bool {
        let token = UUID().uuidString
        let body = Array(#"{"event":"endpoint.url_validation","event_ts":\#(Int64(Date().timeIntervalSince1970 * 1000)),"payload":{"plainToken":"\#(token)"}}"#.utf8)
        let timestamp = Int64(Date().timeIntervalSince1970)
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/webhooks/zoom")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "x-zm-request-timestamp", value: String(timestamp))
        request.headers.add(name: "x-zm-signature", value: signer.signature(timestamp: timestamp, body: body))
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .seconds(Int64(timeout.components.seconds)))
        let answer = try await response.body.collect(upTo: 1 << 16)
        return response.status.code == 200 && String(buffer: answer).contains(signer.encryptedToken(plainToken: token))
    }
}
