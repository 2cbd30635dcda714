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

    @Test("a context sealed with another app's secret is refused")
    func wrongSecret() throws {
        let other = try header(#"{"uid":"u","ts":\#(now)}"#, secret: "another-secret")
        #expect(throws: AppContext.Failure.decryptionFailed) { try AppContext.decrypt(header: other, clientSecret: secret, now: now) }
    }

    @Test("a context with any byte altered is refused")
    func tampered() throws {
        var bytes = [UInt8](Data(base64Encoded: try header(#"{"uid":"u","ts":\#(now)}"#))!)
        for index in [1, 14, 20, bytes.count - 1] {
            var copy = bytes
            copy[index] ^= 0x01
            #expect(throws: (any Error).self) { try AppContext.decrypt(header: Data(copy).base64EncodedString(), clientSecret: secret, now: now) }
        }
        bytes.removeLast()
        #expect(throws: AppContext.Failure.malformed("truncated")) { try AppContext.decrypt(header: Data(bytes).base64EncodedString(), clientSecret: secret, now: now) }
    }

    @Test("an old or expired context is refused")
    func stale() throws {
        #expect(throws: AppContext.Failure.stale) { try AppContext.decrypt(header: header(#"{"uid":"u","ts":\#(now - 600_000)}"#), clientSecret: secret, now: now) }
        #expect(throws: AppContext.Failure.stale) { try AppContext.decrypt(header: header(#"{"uid":"u","ts":\#(now),"exp":\#(now - 1)}"#), clientSecret: secret, now: now) }
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
    func pendingLogins() async {
        let logins = PendingLogins()
        let (state, pkce) = await logins.begin()
        #expect(await logins.finish(state: state) == pkce)
        #expect(await logins.finish(state: state) == nil)
        #expect(await logins.finish(state: "forged") == nil)
    }
}

@Suite("SQLite token store")
struct SQLiteTokenStoreTests {
    func makeStore(secret: String = "s") throws -> (SQLiteTokenStore, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)/relay.sqlite").path
        return (try SQLiteTokenStore(path: path, cipher: TokenCipher(clientSecret: secret)), path)
    }

    @Test("tokens round-trip per account and are encrypted at rest")
    func roundTrip() async throws {
        let (store, path) = try makeStore()
        let tokens = OAuthTokens(accessToken: "access-PLAINTEXT-1", refreshToken: "refresh-PLAINTEXT-1", expiresAtMillis: 123, scope: "x")
        try await store.save(account: "acc", tokens: tokens)
        #expect(try await store.load(account: "acc") == AccountAuthState(account: "acc", tokens: tokens))
        #expect(try await store.load(account: "other") == nil)
        #expect(try await store.accounts() == ["acc"])
        var raw = Data()
        for suffix in ["", "-wal"] { raw += (FileManager.default.contents(atPath: path + suffix) ?? Data()) }
        #expect(!raw.isEmpty)
        #expect(raw.range(of: Data("PLAINTEXT".utf8)) == nil)
    }

    @Test("a failed refresh marks the account unauthenticated with a reason, and a new login clears it")
    func unauthenticated() async throws {
        let (store, _) = try makeStore()
        try await store.save(account: "acc", tokens: OAuthTokens(accessToken: "a", refreshToken: "r", expiresAtMillis: 1))
        try await store.markUnauthenticated(account: "acc", problem: "refresh refused")
        let state = try #require(try await store.load(account: "acc"))
        #expect(state.tokens == nil && state.problem == "refresh refused" && !state.isAuthenticated)
        try await store.save(account: "acc", tokens: OAuthTokens(accessToken: "b", refreshToken: "r2", expiresAtMillis: 2))
        #expect(try await store.load(account: "acc")?.isAuthenticated == true)
    }

    @Test("tokens sealed under another client secret cannot be read")
    func otherSecret() async throws {
        let (store, path) = try makeStore(secret: "one")
        try await store.save(account: "acc", tokens: OAuthTokens(accessToken: "a", refreshToken: "r", expiresAtMillis: 1))
        let reopened = try SQLiteTokenStore(path: path, cipher: TokenCipher(clientSecret: "two"))
        await #expect(throws: (any Error).self) { try await reopened.load(account: "acc") }
    }

    @Test("the refresh lock lets one holder in at a time")
    func refreshLock() async throws {
        let (store, _) = try makeStore()
        let counter = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    try await store.withRefreshLock(account: "acc") {
                        await counter.enter()
                        try await Task.sleep(for: .milliseconds(5))
                        await counter.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(await counter.maximum == 1)
        #expect(await counter.total == 10)
    }

    actor Counter {
        var current = 0, maximum = 0, total = 0
        func enter() { current += 1; total += 1; maximum = max(maximum, current) }
        func leave() { current -= 1 }
    }
}
