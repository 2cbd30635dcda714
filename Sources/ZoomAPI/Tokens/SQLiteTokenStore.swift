import Foundation
import GRDB

/// The embedded token store: one row per Zoom account in a SQLite file (WAL), tokens encrypted at rest.
///
/// The refresh lock is an in-process async mutex per account; a SQLite file is not shared between
/// instances (use the Redis store for that).
public final class SQLiteTokenStore: TokenStore {
    private let database: DatabaseQueue
    private let cipher: TokenCipher
    private let locks = AccountLocks()

    /// Opens (creating folders, file and schema as needed) the store at `path`.
    public init(path: String, cipher: TokenCipher) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        database = try DatabaseQueue(path: path, configuration: configuration)
        self.cipher = cipher
        try database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
        }
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 tokens") { db in
            try db.create(table: "oauth_account") { table in
                table.primaryKey("account", .text)
                table.column("access_token", .text)
                table.column("refresh_token", .text)
                table.column("expires_at_ms", .integer)
                table.column("scope", .text)
                table.column("problem", .text)
                table.column("updated_at_ms", .integer).notNull()
            }
        }
        migrator.registerMigration("v2 webhook deliveries") { db in
            try db.create(table: "webhook_delivery") { table in
                table.primaryKey("dedupe_key", .text)
                table.column("seen_at", .integer).notNull().indexed()
            }
        }
        try migrator.migrate(database)
    }

    public func load(account: String) async throws -> AccountAuthState? {
        let row = try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM oauth_account WHERE account = ?", arguments: [account])
        }
        guard let row else { return nil }
        var tokens: OAuthTokens?
        if let access: String = row["access_token"], let refresh: String = row["refresh_token"], let expires: Int64 = row["expires_at_ms"] {
            tokens = OAuthTokens(
                accessToken: try cipher.open(access, account: account, field: "access_token"),
                refreshToken: try cipher.open(refresh, account: account, field: "refresh_token"),
                expiresAtMillis: expires, scope: row["scope"])
        }
        return AccountAuthState(account: account, tokens: tokens, problem: row["problem"])
    }

    public func save(account: String, tokens: OAuthTokens) async throws {
        let access = try cipher.seal(tokens.accessToken, account: account, field: "access_token")
        let refresh = try cipher.seal(tokens.refreshToken, account: account, field: "refresh_token")
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO oauth_account (account, access_token, refresh_token, expires_at_ms, scope, problem, updated_at_ms)
                    VALUES (?, ?, ?, ?, ?, NULL, ?)
                    ON CONFLICT(account) DO UPDATE SET access_token = excluded.access_token, refresh_token = excluded.refresh_token,
                      expires_at_ms = excluded.expires_at_ms, scope = excluded.scope, problem = NULL, updated_at_ms = excluded.updated_at_ms
                    """,
                arguments: [account, access, refresh, tokens.expiresAtMillis, tokens.scope, now]
            )
        }
    }

    public func markUnauthenticated(account: String, problem: String) async throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO oauth_account (account, access_token, refresh_token, expires_at_ms, scope, problem, updated_at_ms)
                    VALUES (?, NULL, NULL, NULL, NULL, ?, ?)
                    ON CONFLICT(account) DO UPDATE SET access_token = NULL, refresh_token = NULL, expires_at_ms = NULL,
                      problem = excluded.problem, updated_at_ms = excluded.updated_at_ms
                    """,
                arguments: [account, problem, now]
            )
        }
    }

    public func accounts() async throws -> [String] {
        try await database.read { db in try String.fetchAll(db, sql: "SELECT account FROM oauth_account ORDER BY account") }
    }

    public func withRefreshLock<T: Sendable>(account: String, _ body: @Sendable () async throws -> T) async throws -> T {
        try await locks.withLock(account, body)
    }
}

extension SQLiteTokenStore: WebhookDeliveryLog {
    public func recordDelivery(key: String, at: Int64, forgetBefore: Int64) throws -> Bool {
        try database.write { db in
            try db.execute(sql: "DELETE FROM webhook_delivery WHERE seen_at < ?", arguments: [forgetBefore])
            try db.execute(sql: "INSERT OR IGNORE INTO webhook_delivery (dedupe_key, seen_at) VALUES (?, ?)", arguments: [key, at])
            return db.changesCount == 1
        }
    }
}

/// An async mutex per key: waiters queue in order, holders may suspend.
actor AccountLocks {
    private var held: Set<String> = []
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    func withLock<T: Sendable>(_ key: String, _ body: @Sendable () async throws -> T) async throws -> T {
        await acquire(key)
        defer { release(key) }
        return try await body()
    }

    private func acquire(_ key: String) async {
        if !held.contains(key) {
            held.insert(key)
            return
        }
        await withCheckedContinuation { waiters[key, default: []].append($0) }
    }

    private func release(_ key: String) {
        if var queue = waiters[key], !queue.isEmpty {
            let next = queue.removeFirst()
            waiters[key] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            held.remove(key)
        }
    }
}
