import Crypto
import Foundation

/// Encrypts tokens at rest (AES-256-GCM, key derived from the app's client secret with HKDF), so a copy of
/// the token database alone does not give access to the Zoom account.
///
/// Each value is bound to its account and field (`account`, `access_token` or `refresh_token`) as GCM's
/// additional authenticated data, so someone who can write the database cannot move one account's token to
/// another account's row, or a refresh token into the access-token field: the value then fails to open.
public struct TokenCipher: Sendable {
    private let key: SymmetricKey
    /// Marks values sealed with their account and field (older values carry no prefix and no binding).
    private static let boundPrefix = "v2."

    public init(clientSecret: String) {
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(clientSecret.utf8)),
            info: Data("rtms-relay token store v1".utf8),
            outputByteCount: 32
        )
    }

    /// `v2.base64(nonce | ciphertext | tag)`, bound to `account` and `field`.
    public func seal(_ plaintext: String, account: String, field: String) throws -> String {
        let sealed = try AES.GCM.seal(Data(plaintext.utf8), using: key, authenticating: Self.binding(account, field))
        return Self.boundPrefix + sealed.combined!.base64EncodedString()
    }

    /// The plaintext, or throws when the data was altered, sealed with another secret, or sealed for another
    /// account or field. Values written before the binding existed open without it (the next save binds them).
    public func open(_ sealed: String, account: String, field: String) throws -> String {
        let bound = sealed.hasPrefix(Self.boundPrefix)
        guard let data = Data(base64Encoded: bound ? String(sealed.dropFirst(Self.boundPrefix.count)) : sealed) else {
            throw TokenStoreError.corrupt("not base64")
        }
        let box = try AES.GCM.SealedBox(combined: data)
        let plaintext = bound ? try AES.GCM.open(box, using: key, authenticating: Self.binding(account, field)) : try AES.GCM.open(box, using: key)
        return String(decoding: plaintext, as: UTF8.self)
    }

    /// The additional authenticated data: length-prefixed, so no two (account, field) pairs share it.
    private static func binding(_ account: String, _ field: String) -> Data {
        Data("rtms-relay token \(account.utf8.count):\(account) \(field)".utf8)
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
