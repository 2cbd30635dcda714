import Crypto
import Foundation
import RedisClient
import RelayTesting
import Testing
import ZoomAPI

/// What every `TokenStore` must do; the SQLite and Redis suites run the same checks.
enum TokenStoreBehaviour {
    static let plaintext = OAuthTokens(accessToken: "access-PLAINTEXT-1", refreshToken: "refresh-PLAINTEXT-1", expiresAtMillis: 123, scope: "x")

    /// Tokens round-trip per account (the caller then checks they are encrypted at rest).
    static func roundTrip(_ store: any TokenStore) async throws {
        try await store.save(account: "acc", tokens: plaintext)
        #expect(try await store.load(account: "acc") == AccountAuthState(account: "acc", tokens: plaintext))
        #expect(try await store.load(account: "other") == nil)
        #expect(try await store.accounts() == ["acc"])
        let unscoped = OAuthTokens(accessToken: "a2", refreshToken: "r2", expiresAtMillis: 5)
        try await store.save(account: "acc", tokens: unscoped)
        #expect(try await store.load(account: "acc")?.tokens == unscoped)
    }

    static func unauthenticated(_ store: any TokenStore) async throws {
        try await store.save(account: "acc", tokens: OAuthTokens(accessToken: "a", refreshToken: "r", expiresAtMillis: 1))
        try await store.markUnauthenticated(account: "acc", problem: "refresh refused")
        let state = try #require(try await store.load(account: "acc"))
        #expect(state.tokens == nil && state.problem == "refresh refused" && !state.isAuthenticated)
        try await store.save(account: "acc", tokens: OAuthTokens(accessToken: "b", refreshToken: "r2", expiresAtMillis: 2))
        #expect(try await store.load(account: "acc")?.isAuthenticated == true)
        #expect(try await store.load(account: "acc")?.problem == nil)
        try await store.markUnauthenticated(account: "never-connected", problem: "denied")
        #expect(try await store.accounts() == ["acc", "never-connected"])
    }

    /// `writer` sealed with one secret; `reader` opens the same data with another.
    static func otherSecret(writer: any TokenStore, reader: any TokenStore) async throws {
        try await writer.save(account: "acc", tokens: OAuthTokens(accessToken: "a", refreshToken: "r", expiresAtMillis: 1))
        await #expect(throws: (any Error).self) { try await reader.load(account: "acc") }
    }

    /// Ten refreshes through `stores` (round robin): never two bodies at once.
    static func refreshLock(_ stores: [any TokenStore]) async throws {
        let counter = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<10 {
                group.addTask {
                    try await stores[index % stores.count].withRefreshLock(account: "acc") {
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

@Suite("SQLite token store")
struct SQLiteTokenStoreTests {
    func makeStore(secret: String = "s") throws -> (SQLiteTokenStore, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)/relay.sqlite").path
        return (try SQLiteTokenStore(path: path, cipher: TokenCipher(clientSecret: secret)), path)
    }

    @Test("tokens round-trip per account and are encrypted at rest")
    func roundTrip() async throws {
        let (store, path) = try makeStore()
        try await TokenStoreBehaviour.roundTrip(store)
        var raw = Data()
        for suffix in ["", "-wal"] { raw += (FileManager.default.contents(atPath: path + suffix) ?? Data()) }
        #expect(!raw.isEmpty)
        #expect(raw.range(of: Data("PLAINTEXT".utf8)) == nil)
    }

    @Test("a failed refresh marks the account unauthenticated with a reason, and a new login clears it")
    func unauthenticated() async throws {
        try await TokenStoreBehaviour.unauthenticated(try makeStore().0)
    }

    @Test("tokens sealed under another client secret cannot be read")
    func otherSecret() async throws {
        let (store, path) = try makeStore(secret: "one")
        try await TokenStoreBehaviour.otherSecret(writer: store, reader: try SQLiteTokenStore(path: path, cipher: TokenCipher(clientSecret: "two")))
    }

    @Test("the refresh lock lets one holder in at a time")
    func refreshLock() async throws {
        try await TokenStoreBehaviour.refreshLock([try makeStore().0])
    }
}

@Suite("Redis token store against a real redis-server", .serialized)
struct RedisTokenStoreTests {
    func makeStore(_ server: RedisServerProcess, secret: String = "s") throws -> RedisTokenStore {
        try RedisTokenStore(url: server.url, cipher: TokenCipher(clientSecret: secret))
    }

    @Test("tokens round-trip per account and are encrypted at rest")
    func roundTrip() async throws {
        try await RedisServerProcess.withServer { server in
            let store = try makeStore(server)
            try await TokenStoreBehaviour.roundTrip(store)
            try await store.save(account: "acc", tokens: TokenStoreBehaviour.plaintext)
            let redis = try RedisConnection(url: server.url)
            let values = try await redis.send("HGETALL", "rtms:token:acc").array?.compactMap(\.string) ?? []
            #expect(values.contains("access_token") && values.contains("refresh_token"))
            #expect(!values.contains { $0.contains("PLAINTEXT") })
            #expect(try await redis.send("SISMEMBER", "rtms:token-accounts", "acc") == .integer(1))
        }
    }

    @Test("security #17: with write access to Redis, a token moved to another account or field does not open; a value sealed before the binding still does")
    func sealedTokensBound() async throws {
        try await RedisServerProcess.withServer { server in
            let store = try makeStore(server, secret: "s")
            try await store.save(account: "victim", tokens: OAuthTokens(accessToken: "victim-access", refreshToken: "victim-refresh", expiresAtMillis: 9))
            try await store.save(account: "attacker", tokens: OAuthTokens(accessToken: "attacker-access", refreshToken: "attacker-refresh", expiresAtMillis: 9))
            let redis = try RedisConnection(url: server.url)
            func field(_ account: String, _ name: String) async throws -> String {
                try #require(try await redis.send("HGET", "rtms:token:\(account)", name).string)
            }
            // The victim's refresh token copied into the attacker's row: the relay must not act on it as the attacker.
            let victimRefresh = try await field("victim", "refresh_token")
            _ = try await redis.send("HSET", "rtms:token:attacker", "refresh_token", victimRefresh)
            await #expect(throws: (any Error).self) { try await store.load(account: "attacker") }
            // Within one row, the refresh token put in the access-token field does not open either.
            _ = try await redis.send("HSET", "rtms:token:victim", "access_token", victimRefresh)
            await #expect(throws: (any Error).self) { try await store.load(account: "victim") }
            // A row written before the binding (no prefix, no associated data) still opens, and the next save binds it.
            let key = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Data("s".utf8)), info: Data("rtms-relay token store v1".utf8), outputByteCount: 32)
            func legacy(_ text: String) throws -> String { try AES.GCM.seal(Data(text.utf8), using: key).combined!.base64EncodedString() }
            _ = try await redis.send("HSET", "rtms:token:old", "access_token", try legacy("old-access"), "refresh_token", try legacy("old-refresh"), "expires_at_ms", "9")
            #expect(try await store.load(account: "old")?.tokens?.refreshToken == "old-refresh")
            try await store.save(account: "old", tokens: OAuthTokens(accessToken: "a", refreshToken: "r", expiresAtMillis: 9))
            #expect(try await field("old", "refresh_token").hasPrefix("v2."))
        }
    }

    @Test("a failed refresh marks the account unauthenticated with a reason, and a new login clears it")
    func unauthenticated() async throws {
        try await RedisServerProcess.withServer { server in
            try await TokenStoreBehaviour.unauthenticated(try makeStore(server))
        }
    }

    @Test("tokens sealed under another client secret cannot be read")
    func otherSecret() async throws {
        try await RedisServerProcess.withServer { server in
            try await TokenStoreBehaviour.otherSecret(writer: try makeStore(server, secret: "one"), reader: try makeStore(server, secret: "two"))
        }
    }

    @Test("the refresh lock lets one holder in at a time")
    func refreshLock() async throws {
        try await RedisServerProcess.withServer { server in
            try await TokenStoreBehaviour.refreshLock([try makeStore(server)])
        }
    }

    @Test("two stores on one Redis never run two refreshes at once")
    func refreshLockAcrossInstances() async throws {
        try await RedisServerProcess.withServer { server in
            try await TokenStoreBehaviour.refreshLock([try makeStore(server), try makeStore(server)])
        }
    }

    @Test("the store survives a Redis restart")
    func restart() async throws {
        try await RedisServerProcess.withServer(persistent: true) { server in
            let store = try makeStore(server)
            try await store.save(account: "acc", tokens: TokenStoreBehaviour.plaintext)
            await server.kill()
            await #expect(throws: TokenStoreError.self) { try await store.load(account: "acc") }
            try await server.start()
            #expect(try await store.load(account: "acc")?.tokens == TokenStoreBehaviour.plaintext)
        }
    }
}
