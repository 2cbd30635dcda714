import Crypto
import Foundation

/// PKCE (RFC 7636, S256) for the authorization-code flow: the verifier stays on the relay, Zoom sees only
/// its hash, so a stolen authorization code is useless without the relay's state.
public struct PKCE: Sendable, Hashable {
    public let verifier: String
    public var challenge: String { Self.challenge(for: verifier) }
    public static let method = "S256"

    /// A fresh random verifier (43 URL-safe characters from 32 random bytes).
    public init() {
        verifier = Base64URL.encode(randomBytes(32))
    }

    public init(verifier: String) {
        self.verifier = verifier
    }

    /// `BASE64URL(SHA256(verifier))` without padding.
    public static func challenge(for verifier: String) -> String {
        Base64URL.encode(Array(SHA256.hash(data: Data(verifier.utf8))))
    }
}

/// Cryptographically random bytes from the system generator.
public func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
}

/// Base64 with the URL-safe alphabet and no padding (RFC 4648 §5), as OAuth and signed tokens use.
public enum Base64URL {
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes URL-safe or standard base64, padded or not; nil when invalid.
    public static func decode(_ text: some StringProtocol) -> Data? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
        return Data(base64Encoded: standard)
    }
}
