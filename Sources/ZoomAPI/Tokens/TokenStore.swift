/// Where OAuth tokens live, keyed by Zoom account (docs/security.md, "Connecting a Zoom account"). Implementations: SQLite (embedded default)
/// and Redis (several instances).
public protocol TokenStore: Sendable {
    /// The account's state, or nil when it never connected.
    func load(account: String) async throws -> AccountAuthState?
    /// Stores new tokens and clears any problem. Called with the rotated refresh token *before* it is used.
    func save(account: String, tokens: OAuthTokens) async throws
    /// Drops the tokens and records why (a failed refresh), so the page offers "Connect to Zoom".
    func markUnauthenticated(account: String, problem: String) async throws
    /// Every account the store knows.
    func accounts() async throws -> [String]
    /// Runs `body` while holding the account's refresh lock, so only one refresh of a rotating refresh token
    /// runs at a time — across processes too where the store is shared.
    func withRefreshLock<T: Sendable>(account: String, _ body: @Sendable () async throws -> T) async throws -> T
}
