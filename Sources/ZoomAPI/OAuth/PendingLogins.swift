import RedisClient
import RelayCore

/// Logins in progress: the `state` sent to Zoom, with its PKCE verifier, until the callback comes back.
///
/// A state is single-use and expires after `lifetime`, so a replayed or forged callback finds nothing. In cluster
/// mode the verifier is kept in Redis too (`SET {prefix}login:<state> <verifier> PX lifetime`, taken with an atomic
/// get-and-delete), so the callback may land on any instance behind the load balancer. While that Redis is
/// unreachable a login is kept in this instance's memory only and must come back here.
public actor PendingLogins {
    private var pending: [String: (pkce: PKCE, createdAtMillis: Int64)] = [:]
    private let lifetimeMillis: Int64
    private let shared: (connection: RedisConnection, keyPrefix: String)?

    /// - Parameter shared: cluster mode's Redis and the prefix of its login keys.
    public init(lifetime: Duration = .seconds(600), shared: (connection: RedisConnection, keyPrefix: String)? = nil) {
        lifetimeMillis = lifetime.components.seconds * 1000
        self.shared = shared
    }

    /// A new random state with its PKCE pair. `prefix` goes in front of the random part (the relay puts a signed
    /// note of who started the login there).
    public func begin(prefix: String = "") async -> (state: String, pkce: PKCE) {
        prune()
        let state = prefix + Base64URL.encode(randomBytes(24))
        let pkce = PKCE()
        if let shared,
           (try? await shared.connection.send("SET", shared.keyPrefix + state, pkce.verifier, "PX", "\(lifetimeMillis)")) == .status("OK") {
            return (state, pkce)
        }
        pending[state] = (pkce, EventClock.nowMillis())
        return (state, pkce)
    }

    /// The PKCE pair for `state`, removing it; nil when unknown, used or expired.
    public func finish(state: String) async -> PKCE? {
        prune()
        if let local = pending.removeValue(forKey: state) { return local.pkce }
        guard let shared, let reply = try? await shared.connection.send("EVAL", Self.takeScript, "1", shared.keyPrefix + state),
              case .bulk = reply, let verifier = reply.string else { return nil }
        return PKCE(verifier: verifier)
    }

    private func prune() {
        let cutoff = EventClock.nowMillis() - lifetimeMillis
        pending = pending.filter { $0.value.createdAtMillis >= cutoff }
    }

    /// GET then DEL in one step (GETDEL needs Redis 6.2).
    static let takeScript = "local v = redis.call('GET', KEYS[1]) if v then redis.call('DEL', KEYS[1]) end return v"
}
