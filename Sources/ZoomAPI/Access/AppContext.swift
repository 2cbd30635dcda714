import Crypto
import Foundation
import RelayCore

/// The `x-zoom-app-context` header Zoom adds to the Home URL request when the app opens inside the client
/// (docs/security.md, "Session tokens"): AES-256-GCM with key SHA-256(client secret), laid out as
/// `[ivLen:1][iv][aadLen:2 LE][aad][ctLen:4 LE][ciphertext][tag:16]`, base64.
public struct AppContext: Sendable, Hashable, Decodable {
    /// The Zoom user.
    public var uid: String
    /// The Zoom account, when given.
    public var aid: String?
    /// Where the app runs (`panel`, …).
    public var typ: String?
    /// When Zoom made the context, epoch milliseconds.
    public var ts: Int64
    /// Expiry, epoch milliseconds, when Zoom gives one.
    public var exp: Int64?

    /// Why a header was refused.
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case malformed(String)
        case decryptionFailed
        case stale
        public var description: String {
            switch self {
            case .malformed(let detail): "x-zoom-app-context is malformed (\(detail))"
            case .decryptionFailed: "x-zoom-app-context could not be decrypted (wrong app or altered)"
            case .stale: "x-zoom-app-context is too old; reopen the app"
            }
        }
    }

    /// Decrypts and checks the header. `maxAge` bounds how old `ts` may be (Zoom makes a new one per load).
    public static func decrypt(header: String, clientSecret: String, now: Int64 = EventClock.nowMillis(), maxAge: Duration = .seconds(300)) throws -> AppContext {
        guard let data = Base64URL.decode(header.trimmingCharacters(in: .whitespaces)) else { throw Failure.malformed("not base64") }
        let bytes = [UInt8](data)
        var offset = 0
        func take(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count >= 0, offset + count <= bytes.count else { throw Failure.malformed("truncated") }
            defer { offset += count }
            return bytes[offset..<offset + count]
        }
        let ivLength = Int(try take(1).first!)
        let iv = try take(ivLength)
        let aadBytes = try take(2)
        let aadLength = Int(aadBytes.first!) | Int(aadBytes.last!) << 8
        let aad = try take(aadLength)
        let lengthBytes = Array(try take(4))
        let ciphertextLength = Int(lengthBytes[0]) | Int(lengthBytes[1]) << 8 | Int(lengthBytes[2]) << 16 | Int(lengthBytes[3]) << 24
        let ciphertext = try take(ciphertextLength)
        let tag = try take(16)
        guard offset == bytes.count else { throw Failure.malformed("trailing bytes") }
        guard ivLength > 0 else { throw Failure.malformed("empty iv") }
        let key = SymmetricKey(data: SHA256.hash(data: Data(clientSecret.utf8)))
        let plaintext: Data
        do {
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: iv), ciphertext: ciphertext, tag: tag)
            plaintext = try AES.GCM.open(box, using: key, authenticating: aad)
        } catch {
            throw Failure.decryptionFailed
        }
        guard let context = try? JSONDecoder().decode(AppContext.self, from: plaintext) else {
            throw Failure.malformed("unexpected content")
        }
        // `ts` is any Int64 the sender sealed: subtracting it from `now` can overflow, and that counts as stale.
        let maxAgeMillis = UInt64(clamping: maxAge.components.seconds * 1000)
        let age = now.subtractingReportingOverflow(context.ts)
        if age.overflow || age.partialValue.magnitude > maxAgeMillis { throw Failure.stale }
        if let exp = context.exp, exp < now { throw Failure.stale }
        return context
    }

    /// Builds a header the way Zoom does (for the simulator and tests).
    public static func encrypt(_ json: Data, clientSecret: String, aad: [UInt8] = []) throws -> String {
        let key = SymmetricKey(data: SHA256.hash(data: Data(clientSecret.utf8)))
        let nonce = AES.GCM.Nonce()
        let box = try AES.GCM.seal(json, using: key, nonce: nonce, authenticating: aad)
        var out: [UInt8] = [12]
        out += Array(nonce)
        out += [UInt8(aad.count & 0xFF), UInt8(aad.count >> 8)]
        out += aad
        let count = box.ciphertext.count
        out += [UInt8(count & 0xFF), UInt8((count >> 8) & 0xFF), UInt8((count >> 16) & 0xFF), UInt8(count >> 24)]
        out += Array(box.ciphertext)
        out += Array(box.tag)
        return Data(out).base64EncodedString()
    }
}
