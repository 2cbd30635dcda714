import Foundation

/// Signs webhook bodies exactly as Zoom does (docs/zoom-rtms.md, "Webhooks and their signature"): `x-zm-request-timestamp` in Unix seconds and
/// `x-zm-signature = "v0=" + hex(HMAC(secretToken, "v0:" + timestamp + ":" + rawBody))`.
public struct WebhookSigner: Sendable {
    public let secretToken: String

    public init(secretToken: String) { self.secretToken = secretToken }

    /// The `x-zm-signature` value for a raw body sent at `timestamp` (seconds).
    public func signature(timestamp: Int64, body: [UInt8]) -> String {
        var message = Array("v0:\(timestamp):".utf8)
        message += body
        return "v0=" + HMACHex.sha256(key: secretToken, message: message)
    }

    /// The `encryptedToken` a receiver must answer to an `endpoint.url_validation`.
    public func encryptedToken(plainToken: String) -> String {
        HMACHex.sha256(key: secretToken, message: plainToken)
    }
}
