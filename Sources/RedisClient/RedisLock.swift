import Foundation

/// A lock shared by every process using one Redis: `SET key token NX PX ttl`, renewed while held, and
/// released only by its owner (a compare-and-delete script), so a holder whose lease lapsed can never
/// delete the next holder's lock. The same primitive serves per-stream ownership leases (README.md, "Running several instances (cluster mode)").
public struct RedisLock: Sendable {
    /// Proof of ownership: the random value stored under the key.
    public struct Token: Sendable, Hashable {
        public let value: String
    }

    public let connection: RedisConnection
    public let key: String
    /// How long the lock outlives a holder that died without releasing it.
    public let ttl: Duration

    public init(connection: RedisConnection, key: String, ttl: Duration = .seconds(30)) {
        self.connection = connection
        self.key = key
        self.ttl = ttl
    }

    /// Takes the lock if it is free.
    public func tryAcquire() async throws -> Token? {
        let token = Token(value: UUID().uuidString)
        let reply = try await connection.send("SET", key, token.value, "NX", "PX", "\(Self.milliseconds(ttl))")
        switch reply {
        case .status("OK"): return token
        case .null: return nil
        default: throw RedisError.unexpectedReply("SET NX PX on \(key): \(reply)")
        }
    }

    /// Waits (polling every `interval`, cancellable) until the lock is taken.
    public func acquire(pollingEvery interval: Duration = .milliseconds(20)) async throws -> Token {
        while true {
            if let token = try await tryAcquire() { return token }
            try await Task.sleep(for: interval)
        }
    }

    /// Extends the lease by `ttl` if `token` still owns it; false when it was lost.
    @discardableResult
    public func renew(_ token: Token) async throws -> Bool {
        try await connection.send("EVAL", Self.renewScript, "1", key, token.value, "\(Self.milliseconds(ttl))").integer == 1
    }

    /// Deletes the lock if `token` still owns it; false when it had already lapsed (and maybe been taken).
    @discardableResult
    public func release(_ token: Token) async throws -> Bool {
        try await connection.send("EVAL", Self.releaseScript, "1", key, token.value).integer == 1
    }

    /// Runs `body` holding the lock, renewing it every third of `ttl`, and releases it afterwards.
    public func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        let token = try await acquire()
        let result: Result<T, any Error>
        do {
            result = .success(try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        do { try await Task.sleep(for: ttl / 3) } catch { return }
                        _ = try? await renew(token)
                    }
                }
                defer { group.cancelAll() }
                return try await body()
            })
        } catch {
            result = .failure(error)
        }
        _ = try? await release(token)
        return try result.get()
    }

    static let releaseScript = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"
    static let renewScript = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end"

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
