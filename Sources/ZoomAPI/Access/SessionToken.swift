import Crypto
import Foundation
import RelayCore

/// The short-lived token the relay gives the agent's page after checking `x-zoom-app-context`: who the user
/// is, until when, signed with HMAC-SHA256 so the relay (any instance sharing the client secret) can
/// verify it without storing sessions. Form: `base64url(json).base64url(hmac)`.
public struct SessionToken: Sendable, Hashable, Codable {
    /// Zoom user id.
    public var uid: String
    /// Zoom account id, when known.
    public var aid: String?
    /// Expiry, epoch milliseconds.
    public var exp: Int64

    public init(uid: String, aid: String?, exp: Int64) {
        self.uid = uid
        self.aid = aid
        self.exp = exp
    }

    /// Signs and verifies session tokens with a key derived from the client secret.
    public struct Signer: Sendable {
        private let key: SymmetricKey
        public let lifetime: Duration

        /// - Parameter purpose: keeps tokens of one use from being accepted for another (a login's `state` is not a
        ///   session): each purpose derives its own key.
        public init(clientSecret: String, lifetime: Duration = .seconds(3600), purpose: String = "rtms-relay session token v1") {
            key = HKDF<SHA256>.deriveKey(
                inputKeyMaterial: SymmetricKey(data: Data(clientSecret.utf8)),
                info: Data(purpose.utf8),
                outputByteCount: 32
            )
            self.lifetime = lifetime
        }

        /// A token for `uid` valid for `lifetime` from now.
        public func issue(uid: String, aid: String?, now: Int64 = EventClock.nowMillis()) -> String {
            let token = SessionToken(uid: uid, aid: aid, exp: now + lifetime.components.seconds * 1000)
            let payload = Base64URL.encode(try! JSONEncoder().encode(token))
            let mac = HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key)
            return payload + "." + Base64URL.encode(Array(mac))
        }

        /// The token's claims, or nil when it is forged, altered or expired.
        public func verify(_ text: String, now: Int64 = EventClock.nowMillis()) -> SessionToken? {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, let mac = Base64URL.decode(parts[1]) else { return nil }
            guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(parts[0].utf8), using: key) else { return nil }
            guard let json = Base64URL.decode(parts[0]), let token = try? JSONDecoder().decode(SessionToken.self, from: json) else { return nil }
            return token.exp > now ? token : nil
        }
    }
}
