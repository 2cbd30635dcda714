import Crypto

/// Lowercase-hex HMAC-SHA256, the one primitive behind every Zoom signature: the webhook `v0=` signature, the
/// `url_validation` token and the RTMS handshake signature. One function so the three cannot drift apart.
public enum HMACHex {
    /// `lowercase_hex(HMAC_SHA256(key, message))`.
    public static func sha256(key: String, message: some Sequence<UInt8>) -> String {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: Array(key.utf8)))
        hmac.update(data: Array(message))
        return hex(hmac.finalize())
    }

    /// `lowercase_hex(HMAC_SHA256(key, message))` for a string message (UTF-8).
    public static func sha256(key: String, message: String) -> String {
        sha256(key: key, message: Array(message.utf8))
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Compares two strings in time that depends only on their lengths, so a forger learns nothing from timing.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
