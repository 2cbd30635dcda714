import RelayCore

/// Logins in progress: the `state` sent to Zoom, with its PKCE verifier, until the callback comes back.
///
/// A state is single-use and expires after `lifetime`, so a replayed or forged callback finds nothing.
public actor PendingLogins {
    private var pending: [String: (pkce: PKCE, createdAtMillis: Int64)] = [:]
    private let lifetimeMillis: Int64

    public init(lifetime: Duration = .seconds(600)) {
        lifetimeMillis = lifetime.components.seconds * 1000
    }

    /// A new random state with its PKCE pair.
    public func begin() -> (state: String, pkce: PKCE) {
        prune()
        let state = Base64URL.encode(randomBytes(24))
        let pkce = PKCE()
        pending[state] = (pkce, EventClock.nowMillis())
        return (state, pkce)
    }

    /// The PKCE pair for `state`, removing it; nil when unknown, used or expired.
    public func finish(state: String) -> PKCE? {
        prune()
        return pending.removeValue(forKey: state)?.pkce
    }

    private func prune() {
        let cutoff = EventClock.nowMillis() - lifetimeMillis
        pending = pending.filter { $0.value.createdAtMillis >= cutoff }
    }
}
