import Foundation
import RedisClient

/// The shared token store (`token_store.kind: redis`), for several relay instances behind one load balancer.
///
/// Keys (prefix `rtms:`):
/// - `rtms:token:{account}` — a hash: `access_token` and `refresh_token` (sealed with `TokenCipher`, as in the
///   SQLite store), `expires_at_ms`, `scope`, `problem`, `updated_at_ms`;
/// - `rtms:token-accounts` — a set of every account the store knows;
/// - `rtms:token-lock:{account}` — the refresh lock (`SET NX PX`, renewed while held, released by its owner
///   only), so one refresh of a rotating refresh token runs at a time across every instance.
public final class RedisTokenStore: TokenStore {
    private let connection: RedisConnection
    private let cipher: TokenCipher
    private let prefix: String
    private let lockTTL: Duration
    /// Waiters in this process queue here first, so only one of them polls the Redis lock.
    private let locks = AccountLocks()

    /// A store on the Redis at `url` (`redis://[user:password@]host:port/db`); connects on first use.
    public init(url: String, cipher: TokenCipher, keyPrefix: String = "rtms:", lockTTL: Duration = .seconds(30)) throws {
        connection = try RedisConnection(url: url)
        self.cipher = cipher
        prefix = keyPrefix
        self.lockTTL = lockTTL
    }

    func tokenKey(_ account: String) -> String { prefix + "token:" + account }
    var accountsKey: String { prefix + "token-accounts" }
    func lockKey(_ account: String) -> String { prefix + "token-lock:" + account }

    public func load(account: String) async throws -> AccountAuthState? {
        let reply = try await run([RedisCommand("HGETALL", [tokenKey(account)])])[0]
        let fields = try Self.fields(reply)
        guard !fields.isEmpty else { return nil }
        var tokens: OAuthTokens?
        if let access = fields["access_token"], let refresh = fields["refresh_token"], let expires = fields["expires_at_ms"].flatMap(Int64.init) {
            tokens = OAuthTokens(
                accessToken: try cipher.open(access, account: account, field: "access_token"),
                refreshToken: try cipher.open(refresh, account: account, field: "refresh_token"),
                expiresAtMillis: expires, scope: fields["scope"])
        }
        return AccountAuthState(account: account, tokens: tokens, problem: fields["problem"])
    }

    public func save(account: String, tokens: OAuthTokens) async throws {
        var fields = [
            "access_token", try cipher.seal(tokens.accessToken, account: account, field: "access_token"),
            "refresh_token", try cipher.seal(tokens.refreshToken, account: account, field: "refresh_token"),
            "expires_at_ms", "\(tokens.expiresAtMillis)",
            "updated_at_ms", "\(Self.nowMillis())",
        ]
        if let scope = tokens.scope { fields += ["scope", scope] }
        try await replace(account: account, fields: fields)
    }

    public func markUnauthenticated(account: String, problem: String) async throws {
        try await replace(account: account, fields: ["problem", problem, "updated_at_ms", "\(Self.nowMillis())"])
    }

    public func accounts() async throws -> [String] {
        let reply = try await run([RedisCommand("SMEMBERS", [accountsKey])])[0]
        guard let members = reply.array else { throw TokenStoreError.unavailable("SMEMBERS \(accountsKey): \(reply)") }
        return members.compactMap(\.string).sorted()
    }

    public func withRefreshLock<T: Sendable>(account: String, _ body: @Sendable () async throws -> T) async throws -> T {
        let lock = RedisLock(connection: connection, key: lockKey(account), ttl: lockTTL)
        return try await locks.withLock(account) {
            try await lock.withLock(body)
        }
    }

    /// Replaces the account's hash atomically (MULTI … EXEC) and records the account.
    private func replace(account: String, fields: [String]) async throws {
        let key = tokenKey(account)
        let replies = try await run([
            RedisCommand("MULTI"),
            RedisCommand("DEL", [key]),
            RedisCommand("HSET", [key] + fields),
            RedisCommand("SADD", [accountsKey, account]),
            RedisCommand("EXEC"),
        ])
        if let refused = replies.compactMap(\.errorMessage).first {
            throw TokenStoreError.unavailable("Redis refused the update of \(key): \(refused)")
        }
        if replies.last?.array == nil {
            throw TokenStoreError.unavailable("Redis did not run the update of \(key): \(replies.last.map { "\($0)" } ?? "no reply")")
        }
    }

    /// Runs a pipeline, reconnecting and trying once more when the connection had failed (a Redis restart).
    /// Every pipeline here is idempotent or a MULTI block, so sending it again is safe.
    private func run(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        do {
            return try await connection.pipeline(commands)
        } catch let error as RedisError where error.isConnectionFailure {
            do {
                return try await connection.pipeline(commands)
            } catch {
                throw TokenStoreError.unavailable("\(error)")
            }
        } catch {
            throw TokenStoreError.unavailable("\(error)")
        }
    }

    private static func fields(_ reply: RedisReply) throws -> [String: String] {
        guard let elements = reply.array else { throw TokenStoreError.corrupt("HGETALL returned \(reply)") }
        var fields: [String: String] = [:]
        for index in stride(from: 0, to: elements.count - 1, by: 2) {
            if let name = elements[index].string { fields[name] = elements[index + 1].string }
        }
        return fields
    }

    private static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
