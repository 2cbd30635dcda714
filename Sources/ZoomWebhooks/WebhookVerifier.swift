/// Checks that a webhook really comes from Zoom (docs/zoom-rtms.md, "Webhooks and their signature"): `x-zm-signature` must be
/// `v0=` + hex HMAC-SHA256(secret token, `v0:{timestamp}:{raw body}`), compared in constant time, and
/// `x-zm-request-timestamp` must lie within the tolerance window, so a captured request cannot be replayed later.
///
/// It signs over the raw body bytes as received: re-serialising parsed JSON breaks signatures.
public struct WebhookVerifier: Sendable {
    /// Why a request was refused; the HTTP answer is 401 in every case, the reason is for logs and metrics.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case missingSignature
        case missingTimestamp
        case malformedTimestamp
        case staleTimestamp
        case badSignature
        case secretNotConfigured

        public var description: String {
            switch self {
            case .missingSignature: "missing x-zm-signature header"
            case .missingTimestamp: "missing x-zm-request-timestamp header"
            case .malformedTimestamp: "x-zm-request-timestamp is not a number of seconds"
            case .staleTimestamp: "x-zm-request-timestamp is outside the allowed window"
            case .badSignature: "signature does not match"
            case .secretNotConfigured: "zoom.webhook_secret is not configured"
            }
        }
    }

    private let secret: String
    /// Largest accepted |now − timestamp|, in seconds.
    public let toleranceSeconds: Int

    public init(secretToken: String, toleranceSeconds: Int = 300) {
        self.secret = secretToken
        self.toleranceSeconds = toleranceSeconds
    }

    /// The expected `x-zm-signature` for a body sent at `timestamp` (also what the simulator and tests sign with).
    public func signature(timestamp: String, body: some Collection<UInt8>) -> String {
        var message = Array("v0:\(timestamp):".utf8)
        message.append(contentsOf: body)
        return "v0=" + HMACHex.sha256(key: secret, message: message)
    }

    /// Verifies one request. `now` is Unix seconds.
    public func verify(signature: String?, timestamp: String?, body: some Collection<UInt8>, now: Int64) throws(Failure) {
        guard !secret.isEmpty else { throw .secretNotConfigured }
        guard let signature, !signature.isEmpty else { throw .missingSignature }
        guard let timestamp, !timestamp.isEmpty else { throw .missingTimestamp }
        guard timestamp.utf8.count <= 12, timestamp.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let seconds = Int64(timestamp) else {
            throw .malformedTimestamp
        }
        guard abs(now - seconds) <= Int64(toleranceSeconds) else { throw .staleTimestamp }
        guard HMACHex.constantTimeEquals(self.signature(timestamp: timestamp, body: body), signature) else { throw .badSignature }
    }

    /// The `encryptedToken` answer to `endpoint.url_validation`: hex HMAC-SHA256(secret token, plainToken).
    public func encryptedToken(plainToken: String) -> String {
        HMACHex.sha256(key: secret, message: plainToken)
    }
}
