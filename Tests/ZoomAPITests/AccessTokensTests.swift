import Foundation
import RelayCore
import Testing
import ZoomAPI

@Suite("x-zoom-app-context, session tokens, PKCE")
struct AccessTokensTests {
    let secret = "client-secret-for-tests"
    let now: Int64 = 1_764_090_286_000

    func header(_ json: String, secret: String? = nil, aad: [UInt8] = Array("zoom".utf8)) throws -> String {
        try AppContext.encrypt(Data(json.utf8), clientSecret: secret ?? self.secret, aad: aad)
    }

    @Test("a fresh app context decrypts to its user and account")
    func decrypts() throws {
        let context = try AppContext.decrypt(header: header(#"{"typ":"panel","uid":"u-1","aid":"acc-9","ts":\#(now - 2_000)}"#), clientSecret: secret, now: now)
        #expect(context.uid == "u-1" && context.aid == "acc-9" && context.typ == "panel")
    }

    /// The fuzz seeds hold a header sealed by an independent implementation (Python's `cryptography`, in Zoom's
    /// layout; see Fuzz/make-seeds.py): it must decrypt here, or a layout mistake made in both `encrypt` and
    /// `decrypt` would pass every other test while refusing every real Zoom header.
    @Test("security: an app context sealed by an independent implementation decrypts (standard and URL-safe base64)")
    func independentlySealed() throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fuzz/Corpus/app-context")
        for name in ["bd3c3423241598d853b2a92eede1446c63805bb5", "8dd91f7afd1102a14835adb3ad56963d37e148a2"] {
            let seed = try Data(contentsOf: corpus.appendingPathComponent(name))
            let header = String(decoding: seed.dropFirst(), as: UTF8.self)
            let context = try AppContext.decrypt(header: header, clientSecret: "client-secret-for-fuzzing", now: 1_764_090_286_000)
            #expect(context.uid == "u-1" && context.aid == "acc-9", "\(name)")
            #expect(throws: AppContext.Failure.decryptionFailed) { try AppContext.decrypt(header: header, clientSecret: secret, now: now) }
        }
    }

    @Test("a context sealed with another app's secret is refused")
    func wrongSecret() throws {
        let other = try header(#"{"uid":"u","ts":\#(now)}"#, secret: "another-secret")
        #expect(throws: AppContext.Failure.decryptionFailed) { try AppContext.decrypt(header: other, clientSecret: secret, now: now) }
    }

    @Test("a context with any byte altered is refused")
    func tampered() throws {
        var bytes = [UInt8](Data(base64Encoded: try header(#"{"uid":"u","ts":\#(now)}"#))!)
        // The length fields are caught by the parser; the IV, the associated data, the ciphertext and the tag
        // reach AES-GCM, which must refuse them.
        for index in [14, 20] {
            var copy = bytes
            copy[index] ^= 0x01
            #expect(throws: (any Error).self) { try AppContext.decrypt(header: Data(copy).base64EncodedString(), clientSecret: secret, now: now) }
        }
        for index in [1, 16, 25, bytes.count - 1] {
            var copy = bytes
            copy[index] ^= 0x01
            #expect(throws: AppContext.Failure.decryptionFailed, "byte \(index)") { try AppContext.decrypt(header: Data(copy).base64EncodedString(), clientSecret: secret, now: now) }
        }
        bytes.removeLast()
        #expect(throws: AppContext.Failure.malformed("truncated")) { try AppContext.decrypt(header: Data(bytes).base64EncodedString(), clientSecret: secret, now: now) }
    }

    @Test("an old or expired context is refused")
    func stale() throws {
        #expect(throws: AppContext.Failure.stale) { try AppContext.decrypt(header: header(#"{"uid":"u","ts":\#(now - 600_000)}"#), clientSecret: secret, now: now) }
        #expect(throws: AppContext.Failure.stale) { try AppContext.decrypt(header: header(#"{"uid":"u","ts":\#(now),"exp":\#(now - 1)}"#), clientSecret: secret, now: now) }
    }

    /// `now - ts` used to trap on overflow for a `ts` near Int64.min (docs/reliability.md, Fuzzing).
    @Test("a context sealed with an extreme ts is refused as stale, without overflowing", arguments: [Int64.min, Int64.min + 1, -1, Int64.max])
    func extremeTimestamps(ts: Int64) throws {
        #expect(throws: AppContext.Failure.stale) { try AppContext.decrypt(header: header(#"{"uid":"u","ts":\#(ts)}"#), clientSecret: secret, now: now) }
    }

    @Test("garbage headers are refused with a clear reason", arguments: ["", "!!!", "AAAA", Data(repeating: 0xFF, count: 64).base64EncodedString()])
    func garbage(text: String) {
        #expect(throws: AppContext.Failure.self) { try AppContext.decrypt(header: text, clientSecret: secret, now: now) }
    }

    @Test("session tokens verify until they expire, and not when altered or signed by another secret")
    func sessionTokens() {
        let signer = SessionToken.Signer(clientSecret: secret, lifetime: .seconds(60))
        let token = signer.issue(uid: "u-1", aid: "acc", now: now)
        #expect(signer.verify(token, now: now + 1_000) == SessionToken(uid: "u-1", aid: "acc", exp: now + 60_000))
        #expect(signer.verify(token, now: now + 61_000) == nil)
        #expect(SessionToken.Signer(clientSecret: "other").verify(token, now: now) == nil)
        var altered = Array(token)
        altered[3] = altered[3] == "A" ? "B" : "A"
        #expect(signer.verify(String(altered), now: now) == nil)
        #expect(signer.verify("no-dot", now: now) == nil)
    }

    @Test("PKCE S256 matches an independent implementation")
    func pkce() {
        // Computed with Python's hashlib + base64.urlsafe_b64encode.
        #expect(PKCE.challenge(for: "relay-test-verifier-0123456789-abcdefghijklmnop") == "6x8R0CeUYoz7kPN8k6pYb5ufsRqsdTPgCIp7r_2rxdM")
        let fresh = PKCE()
        #expect(fresh.verifier.count == 43)
        #expect(fresh.verifier != PKCE().verifier)
    }

    @Test("pending logins are single-use")
    func pendingLogins() async throws {
        let logins = PendingLogins()
        let (state, pkce) = try await logins.begin()
        #expect(await logins.finish(state: state) == pkce)
        #expect(await logins.finish(state: state) == nil)
        #expect(await logins.finish(state: "forged") == nil)
    }

    @Test("security #7: pending logins are capped in total and per client; finishing or expiring frees a slot")
    func pendingLoginsCapped() async throws {
        let logins = PendingLogins(lifetime: .milliseconds(300), capacity: 5, perClientCapacity: 2)
        _ = try await logins.begin(client: "203.0.113.7")
        let (held, _) = try await logins.begin(client: "203.0.113.7")
        await #expect(throws: PendingLogins.Refusal.tooManyForClient(limit: 2)) { try await logins.begin(client: "203.0.113.7") }
        for _ in 0..<3 { _ = try await logins.begin() }
        await #expect(throws: PendingLogins.Refusal.full(capacity: 5)) { try await logins.begin(client: "198.51.100.1") }
        #expect(await logins.count == 5)
        #expect(await logins.finish(state: held) != nil)
        _ = try await logins.begin(client: "203.0.113.7")
        try await Task.sleep(for: .milliseconds(400))
        #expect(await logins.count == 0)
        for _ in 0..<5 { _ = try await logins.begin() }
    }
}
