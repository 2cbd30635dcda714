import Crypto
import Foundation

/// Lowercase hex HMAC-SHA256, the one primitive behind handshake signatures, webhook signatures and URL
/// validation tokens.
enum HMACHex {
    static func sha256(key: String, message: some DataProtocol) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(key.utf8)))
        return code.map { String(format: "%02x", $0) }.joined()
    }

    static func sha256(key: String, message: String) -> String {
        sha256(key: key, message: Data(message.utf8))
    }

    /// Constant-time comparison after a length check, as Zoom's own samples do.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}

/// The RTMS handshake signature (docs/zoom-rtms.md, "Signaling handshake"): `hex(HMAC(clientSecret, "clientID,instanceID,streamID"))`.
public enum RTMSSignature {
    public static func compute(clientID: String, clientSecret: String, instanceID: String, streamID: String) -> String {
        HMACHex.sha256(key: clientSecret, message: "\(clientID),\(instanceID),\(streamID)")
    }
}
