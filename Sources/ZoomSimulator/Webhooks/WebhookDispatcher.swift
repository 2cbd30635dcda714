import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Synchronization


/// Delivers signed webhooks to the relay. Deliveries are queued and sent by a few worker lanes; an engagement
/// always maps to the same lane, so its started/stopped events arrive in order while other calls proceed.
actor WebhookDispatcher {
    /// What happened to a delivery, kept for introspection.
    struct Outcome: Sendable {
        var event: WebhookEventName
        var status: Int?
    }

    private let signer: WebhookSigner
    private let url: String?
    private let timeout: Duration
    private let logger: Logger
    private let lanes: [AsyncStream<WebhookDelivery>.Continuation]
    private let streams: [AsyncStream<WebhookDelivery>]
    private(set) var outcomes: [Outcome] = []
    /// Deliveries queued but not finished, so shutdown can wait for the last stop webhooks.
    private let pending = Mutex<Int>(0)

    init(signer: WebhookSigner, url: String?, timeout: Duration, logger: Logger, laneCount: Int = 8) {
        self.signer = signer
        self.url = url
        self.timeout = timeout
        self.logger = logger
        var lanes: [AsyncStream<WebhookDelivery>.Continuation] = []
        var streams: [AsyncStream<WebhookDelivery>] = []
        for _ in 0..<laneCount {
            let (stream, continuation) = AsyncStream<WebhookDelivery>.makeStream()
            lanes.append(continuation)
            streams.append(stream)
        }
        self.lanes = lanes
        self.streams = streams
    }

    /// Queues a delivery; never suspends the caller on the network.
    nonisolated func enqueue(_ delivery: WebhookDelivery) {
        guard url != nil else { return }
        pending.withLock { $0 += 1 }
        var hasher = Hasher()
        hasher.combine(delivery.lane)
        lanes[Int(UInt(bitPattern: hasher.finalize()) % UInt(lanes.count))].yield(delivery)
    }

    /// Runs the delivery lanes until cancelled.
    func run(client: HTTPClient) async {
        await withDiscardingTaskGroup { group in
            for stream in streams {
                group.addTask {
                    for await delivery in stream {
                        let status = await self.post(delivery, client: client)
                        await self.record(Outcome(event: delivery.event, status: status))
                        self.pending.withLock { $0 -= 1 }
                    }
                }
            }
        }
    }

    /// Waits until every queued delivery is done, or the timeout passes.
    nonisolated func waitUntilIdle(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while pending.withLock({ $0 }) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    private func record(_ outcome: Outcome) { outcomes.append(outcome) }

    /// POSTs one signed body; returns the HTTP status, or nil when the relay could not be reached.
    nonisolated func post(_ delivery: WebhookDelivery, client: HTTPClient) async -> Int? {
        guard let request = signedRequest(delivery) else { return nil }
        do {
            let response = try await client.execute(request, timeout: .milliseconds(timeout.milliseconds))
            if !(200...204).contains(Int(response.status.code)) {
                logger.warning("webhook \(delivery.event.rawValue) answered \(response.status.code)")
            }
            _ = try? await response.body.collect(upTo: 1 << 20)
            return Int(response.status.code)
        } catch {
            logger.warning("webhook \(delivery.event.rawValue) failed: \(error)")
            return nil
        }
    }

    /// The POST of one delivery, signed at send time like Zoom: every request, validation included, is signed.
    nonisolated private func signedRequest(_ delivery: WebhookDelivery) -> HTTPClientRequest? {
        guard let url else { return nil }
        let timestamp = epochMilliseconds() / 1000
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: "Zoom Marketplace/1.0a")
        request.headers.add(name: "x-zm-request-timestamp", value: String(timestamp))
        request.headers.add(name: "x-zm-signature", value: signer.signature(timestamp: timestamp, body: delivery.body))
        request.body = .bytes(ByteBuffer(bytes: delivery.body))
        return request
    }

    /// Sends an `endpoint.url_validation` and checks the answer, as Zoom does when a URL is saved.
    func validateEndpoint(client: HTTPClient) async -> Bool {
        let plainToken = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            .replacingOccurrences(of: "=", with: "")
        let delivery = WebhookDelivery.make(.urlValidation, payload: URLValidationPayload(plainToken: plainToken), lane: "validation")
        guard let request = signedRequest(delivery) else { return false }
        struct Answer: Decodable { var plainToken: String; var encryptedToken: String }
        do {
            let response = try await client.execute(request, timeout: .milliseconds(timeout.milliseconds))
            let body = try await response.body.collect(upTo: 1 << 16)
            guard response.status == .ok,
                let answer = try? JSONDecoder().decode(Answer.self, from: Data(body.readableBytesView))
            else { return false }
            return answer.plainToken == plainToken && answer.encryptedToken == signer.encryptedToken(plainToken: plainToken)
        } catch {
            logger.warning("url validation failed: \(error)")
            return false
        }
    }
}
