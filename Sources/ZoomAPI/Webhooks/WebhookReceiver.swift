import NIOConcurrencyHelpers
import DequeModule
import Logging
import RelayCore
import ZoomWebhooks

/// The whole of `POST /api/webhooks/zoom` without the HTTP framework (README.md, "How a call flows"): size limit, signature,
/// JSON, url_validation, dedupe of Zoom's retries, then hand-off.
///
/// `handle` answers at once; the work an event causes happens later, in whoever consumes `events` (the
/// `IngestService`). Zoom retries deliveries not answered within 3 s, and a retried `rtms_started` would open a
/// duplicate signaling connection, so answering first matters.
public final class WebhookReceiver: Sendable {
    /// What happened to deliveries so far, for `/metrics`.
    public struct Counters: Sendable, Equatable {
        public var accepted = 0
        public var validations = 0
        public var duplicates = 0
        public var unauthorized = 0
        public var malformed = 0
        public var tooLarge = 0
        /// Verified events the relay does not act on (acknowledged anyway).
        public var ignored = 0

        /// Verified deliveries from Zoom: events acted on or not, and endpoint validations.
        public var seen: Int { accepted + ignored + validations }
    }

    private struct State {
        var counters = Counters()
        var seen: Set<String> = []
        var order: Deque<(key: String, at: Int64)> = []
    }

    /// Verified events, in arrival order, for ingest to act on.
    public let events: AsyncStream<ZoomWebhookEvent>
    private let continuation: AsyncStream<ZoomWebhookEvent>.Continuation
    private let verifier: WebhookVerifier
    private let maxBodyBytes: Int
    private let dedupeWindowSeconds: Int64
    private let maxRemembered: Int
    private let state = NIOLockedValueBox(State())
    private let deliveryLog: (any WebhookDeliveryLog)?
    private let logger: Logger

    /// - Parameters:
    ///   - dedupeWindowSeconds: how long a delivery is remembered. Zoom's last retry comes 85 minutes after the
    ///     first attempt, so the default covers all of them.
    ///   - deliveryLog: where accepted deliveries are recorded too, so the dedupe survives a restart; nil keeps it
    ///     in memory only.
    public init(verifier: WebhookVerifier, maxBodyBytes: Int = 262_144, dedupeWindowSeconds: Int64 = 2 * 3600,
                maxRemembered: Int = 100_000, deliveryLog: (any WebhookDeliveryLog)? = nil,
                logger: Logger = Logger(label: "rtms-relay.webhooks")) {
        (events, continuation) = AsyncStream.makeStream(of: ZoomWebhookEvent.self, bufferingPolicy: .unbounded)
        self.verifier = verifier
        self.maxBodyBytes = maxBodyBytes
        self.dedupeWindowSeconds = dedupeWindowSeconds
        self.maxRemembered = maxRemembered
        self.deliveryLog = deliveryLog
        self.logger = logger
    }

    /// Counters so far.
    public var counters: Counters { state.withLockedValue { $0.counters } }

    /// Ends `events` (on shutdown).
    public func finish() { continuation.finish() }

    /// Handles one delivery given its headers (any case) and raw body. `now` is Unix seconds.
    public func handle(headers: [String: String], body: some Collection<UInt8>, now: Int64) -> WebhookResponse {
        var signature: String?, timestamp: String?
        for (name, value) in headers {
            switch name.lowercased() {
            case "x-zm-signature": signature = value
            case "x-zm-request-timestamp": timestamp = value
            default: break
            }
        }
        return handle(signature: signature, timestamp: timestamp, body: body, now: now)
    }

    /// Handles one delivery: the two Zoom headers and the raw body bytes. `now` is Unix seconds.
    public func handle(signature: String?, timestamp: String?, body: some Collection<UInt8>, now: Int64) -> WebhookResponse {
        guard body.count <= maxBodyBytes else {
            count { $0.tooLarge += 1 }
            return .error(413, "request body larger than \(maxBodyBytes) bytes")
        }
        do {
            try verifier.verify(signature: signature, timestamp: timestamp, body: body, now: now)
        } catch {
            count { $0.unauthorized += 1 }
            logger.warning("webhook refused", metadata: ["reason": "\(error)"])
            return .error(401, "invalid webhook signature")
        }
        let envelope: WebhookEnvelope
        do {
            envelope = try WebhookEnvelope.decode(body)
        } catch {
            count { $0.malformed += 1 }
            return .error(400, "malformed JSON: expected an object with a string 'event'")
        }
        if envelope.event == "endpoint.url_validation" {
            guard let plainToken = envelope.payload?["plainToken"]?.stringValue, !plainToken.isEmpty else {
                count { $0.malformed += 1 }
                return .error(400, "missing payload.plainToken")
            }
            count { $0.validations += 1 }
            return WebhookResponse(status: 200, body: JSONText.object([
                "plainToken": plainToken, "encryptedToken": verifier.encryptedToken(plainToken: plainToken),
            ]))
        }
        guard remember(envelope.dedupeKey, now: now) else {
            count { $0.duplicates += 1 }
            logger.debug("duplicate webhook ignored", metadata: ["event": "\(envelope.event)"])
            return WebhookResponse(status: 200, body: #"{"received":true,"duplicate":true}"#)
        }
        if let event = envelope.typedEvent() {
            count { $0.accepted += 1 }
            continuation.yield(event)
        } else {
            count { $0.ignored += 1 }
            logger.debug("webhook acknowledged, not acted on", metadata: ["event": "\(envelope.event)"])
        }
        return WebhookResponse(status: 200, body: #"{"received":true}"#)
    }

    /// Records `key`, in memory and in the delivery log; false when it was already seen inside the window (also
    /// before a restart). A log that cannot be written is logged and does not block the delivery.
    private func remember(_ key: String, now: Int64) -> Bool {
        guard rememberInMemory(key, now: now) else { return false }
        guard let deliveryLog else { return true }
        do {
            return try deliveryLog.recordDelivery(key: key, at: now, forgetBefore: now - dedupeWindowSeconds)
        } catch {
            logger.error("webhook delivery log not written; dedupe across a restart may miss this delivery", metadata: ["error": "\(error)"])
            return true
        }
    }

    private func rememberInMemory(_ key: String, now: Int64) -> Bool {
        state.withLockedValue { state in
            while let oldest = state.order.first,
                  oldest.at < now - dedupeWindowSeconds || state.order.count >= maxRemembered {
                state.order.removeFirst()
                state.seen.remove(oldest.key)
            }
            guard state.seen.insert(key).inserted else { return false }
            state.order.append((key, now))
            return true
        }
    }

    private func count(_ update: (inout Counters) -> Void) {
        state.withLockedValue { update(&$0.counters) }
    }
}
