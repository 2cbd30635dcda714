import DequeModule
import RedisClient
import RelayCore

/// Logins in progress: the `state` sent to Zoom, with its PKCE verifier, until the callback comes back.
///
/// A state is single-use and expires after `lifetime`, so a replayed or forged callback finds nothing. In cluster
/// mode the verifier is kept in Redis too (`SET {prefix}login:<state> <verifier> PX lifetime`, taken with an atomic
/// get-and-delete), so the callback may land on any instance behind the load balancer. While that Redis is
/// unreachable a login is kept in this instance's memory only and must come back here.
///
/// Logins are capped, in total (`capacity`) and per client address (`perClientCapacity`), so a flood of
/// `/api/auth/login` cannot grow memory or Redis without bound. Every login this instance began, in memory or in
/// Redis, holds a slot until it finishes here or expires; expiry walks a queue in creation order, so each call
/// does O(1) amortized work instead of scanning every pending login.
public actor PendingLogins {
    /// Why `begin` refused a new login.
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// `capacity` logins are already pending.
        case full(capacity: Int)
        /// This client already has `perClientCapacity` logins pending.
        case tooManyForClient(limit: Int)

        public var description: String {
            switch self {
            case .full(let capacity): "too many Zoom logins in progress (\(capacity)); try again in a few minutes"
            case .tooManyForClient(let limit): "too many Zoom logins in progress from this address (\(limit)); finish one or try again in a few minutes"
            }
        }
    }

    /// The slot of one begun login: who began it, and its verifier when it is kept in memory.
    private struct Slot {
        var client: String?
        var pkce: PKCE?
    }

    private var slots: [String: Slot] = [:]
    /// States in creation order, with their creation time; finished states are skipped when they reach the front.
    private var queue: Deque<(state: String, createdAtMillis: Int64)> = []
    private var perClient: [String: Int] = [:]
    private let lifetimeMillis: Int64
    private let shared: (connection: RedisConnection, keyPrefix: String)?
    /// The most logins pending at once.
    public let capacity: Int
    /// The most logins pending at once from one client address.
    public let perClientCapacity: Int

    /// - Parameter shared: cluster mode's Redis and the prefix of its login keys.
    public init(
        lifetime: Duration = .seconds(600), capacity: Int = 1000, perClientCapacity: Int = 50,
        shared: (connection: RedisConnection, keyPrefix: String)? = nil
    ) {
        lifetimeMillis = lifetime.components.seconds * 1000 + lifetime.components.attoseconds / 1_000_000_000_000_000
        self.capacity = capacity
        self.perClientCapacity = perClientCapacity
        self.shared = shared
    }

    /// How many logins are pending now.
    public var count: Int {
        prune()
        return slots.count
    }

    /// A new random state with its PKCE pair, for a login begun by `client` (its address, when known). `prefix`
    /// goes in front of the random part (the relay puts a signed note of who started the login there). Throws
    /// `Refusal` when the cap is reached.
    public func begin(prefix: String = "", client: String? = nil) async throws -> (state: String, pkce: PKCE) {
        prune()
        guard slots.count < capacity else { throw Refusal.full(capacity: capacity) }
        if let client, perClient[client, default: 0] >= perClientCapacity { throw Refusal.tooManyForClient(limit: perClientCapacity) }
        let state = prefix + Base64URL.encode(randomBytes(24))
        let pkce = PKCE()
        var slot = Slot(client: client)
        if let shared,
           (try? await shared.connection.send("SET", shared.keyPrefix + state, pkce.verifier, "PX", "\(lifetimeMillis)")) == .status("OK") {
            slot.pkce = nil
        } else {
            slot.pkce = pkce
        }
        slots[state] = slot
        queue.append((state, EventClock.nowMillis()))
        if let client { perClient[client, default: 0] += 1 }
        return (state, pkce)
    }

    /// The PKCE pair for `state`, removing it; nil when unknown, used or expired.
    public func finish(state: String) async -> PKCE? {
        prune()
        if let local = release(state)?.pkce { return local }
        guard let shared, let reply = try? await shared.connection.send("EVAL", Self.takeScript, "1", shared.keyPrefix + state),
              case .bulk = reply, let verifier = reply.string else { return nil }
        return PKCE(verifier: verifier)
    }

    /// Frees `state`'s slot; its slot if it had one.
    @discardableResult
    private func release(_ state: String) -> Slot? {
        guard let slot = slots.removeValue(forKey: state) else { return nil }
        if let client = slot.client {
            let left = perClient[client, default: 1] - 1
            perClient[client] = left > 0 ? left : nil
        }
        return slot
    }

    private func prune() {
        let cutoff = EventClock.nowMillis() - lifetimeMillis
        while let first = queue.first, first.createdAtMillis < cutoff {
            queue.removeFirst()
            release(first.state)
        }
        // Finished logins leave their queue entries behind; drop them once they outnumber the live ones.
        if queue.count > 2 * slots.count + 64 {
            queue.removeAll { slots[$0.state] == nil }
        }
    }

    /// GET then DEL in one step (GETDEL needs Redis 6.2).
    static let takeScript = "local v = redis.call('GET', KEYS[1]) if v then redis.call('DEL', KEYS[1]) end return v"
}
