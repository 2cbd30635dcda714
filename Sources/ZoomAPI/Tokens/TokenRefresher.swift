import Logging
import RelayCore

/// Hands out valid access tokens: refreshes **before** expiry and once after a 401, with exactly one
/// refresh in flight per account (SPEC §5.3).
///
/// Zoom rotates refresh tokens: a second concurrent refresh would present a dead token and could lock the
/// account out. So every refresh runs under the store's refresh lock, and re-reads the stored tokens first:
/// if another caller already refreshed, the new token is simply used.
public actor TokenRefresher {
    public let store: any TokenStore
    public let oauth: ZoomOAuthClient
    /// Refresh when the access token has less than this left.
    public let margin: Duration
    private let logger: Logger
    private var inFlight: [String: Task<OAuthTokens, any Error>] = [:]
    /// How many refreshes were sent to Zoom (for tests and metrics).
    public private(set) var refreshCount = 0

    public init(store: any TokenStore, oauth: ZoomOAuthClient, margin: Duration = .seconds(300), logger: Logger) {
        self.store = store
        self.oauth = oauth
        self.margin = margin
        self.logger = logger
    }

    /// A valid access token for `account`, refreshing first when it is about to expire.
    public func accessToken(account: String) async throws -> String {
        let state = try await store.load(account: account)
        guard let state, let tokens = state.tokens, state.problem == nil else {
            throw ZoomAPIError.notAuthenticated(state?.problem ?? "not connected to Zoom: use Connect to Zoom")
        }
        if tokens.expiresAtMillis - EventClock.nowMillis() > margin.components.seconds * 1000 {
            return tokens.accessToken
        }
        return try await refresh(account: account, replacing: tokens.accessToken).accessToken
    }

    /// Refreshes because Zoom answered 401 to `rejected`. If someone already replaced that token, the newer
    /// one is returned without another refresh.
    public func accessTokenAfterUnauthorized(account: String, rejected: String) async throws -> String {
        try await refresh(account: account, replacing: rejected).accessToken
    }

    /// Single-flight refresh: concurrent callers share one task.
    private func refresh(account: String, replacing stale: String) async throws -> OAuthTokens {
        if let task = inFlight[account] { return try await task.value }
        let task = Task { try await self.performRefresh(account: account, replacing: stale) }
        inFlight[account] = task
        defer { inFlight[account] = nil }
        return try await task.value
    }

    private func performRefresh(account: String, replacing stale: String) async throws -> OAuthTokens {
        let store = self.store, oauth = self.oauth, logger = self.logger
        let (tokens, sent) = try await store.withRefreshLock(account: account) { () async throws -> (OAuthTokens, Bool) in
            guard let state = try await store.load(account: account), let current = state.tokens, state.problem == nil else {
                throw ZoomAPIError.notAuthenticated("not connected to Zoom: use Connect to Zoom")
            }
            if current.accessToken != stale {
                // Another caller (or instance) refreshed while we waited for the lock.
                return (current, false)
            }
            do {
                let fresh = try await oauth.refresh(refreshToken: current.refreshToken)
                // Persist the rotated refresh token before anything uses it.
                try await store.save(account: account, tokens: fresh)
                logger.info("refreshed Zoom access token", metadata: ["account": "\(account)"])
                return (fresh, true)
            } catch let error as ZoomAPIError {
                if case .invalidGrant(let message) = error {
                    let problem = "Zoom refused the token refresh (\(message)); connect to Zoom again"
                    try await store.markUnauthenticated(account: account, problem: problem)
                    logger.error("token refresh failed; account needs to reconnect", metadata: ["account": "\(account)"])
                    throw ZoomAPIError.notAuthenticated(problem)
                }
                throw error
            }
        }
        if sent { refreshCount += 1 }
        return tokens
    }

    /// Refreshes every account whose token expires within the margin (run periodically).
    public func refreshExpiring() async {
        guard let accounts = try? await store.accounts() else { return }
        for account in accounts {
            do { _ = try await accessToken(account: account) } catch {
                logger.warning("proactive refresh failed", metadata: ["account": "\(account)", "error": "\(error)"])
            }
        }
    }
}
