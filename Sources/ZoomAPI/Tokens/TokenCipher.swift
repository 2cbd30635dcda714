import Crypto
import Foundation

/// Encrypts tokens at rest (AES-256-GCM, key derived from the app's client secret with HKDF), so a copy of
/// the token database alone does not give access to the Zoom account.
public struct TokenCipher: Sendable {
    private let key: SymmetricKey

    public init(clientSecret: String) {
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(clientSecret.utf8)),
            info: Data("rtms-relay token store v1".utf8),
            outputByteCount: 32
        )
    }

    /// `base64(nonce | ciphertext | tag)`.
    public func seal(_ plaintext: String) throws -> String {
        try AES.GCM.seal(Data(plaintext.utf8), using: key).combined!.base64EncodedString()
    }

    /// The plaintext, or throws when the data was altered or sealed with another secret.
    public func open(_ sealed: String) throws -> String {
        guard let data = Data(base64Encoded: sealed) else { throw TokenStoreError.corrupt("not base64") }
        let box = try AES.GCM.SealedBox(combined: data)
        return String(decoding: try AES.GCM.open(box, using: key), as: UTF8.self)
    }
}

/// Token store failures.
public enum TokenStoreError: Error, CustomStringConvertible {
    case corrupt(String)
    case unavailable(String)

    public var description: String {
        switch self {
        case .corrupt(let detail): "stored tokens cannot be read (\(detail)); connect to Zoom again"
        case .unavailable(let detail): "token store unavailable: \(detail)"
        }
    }
}
