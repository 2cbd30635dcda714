import Logging
import RelayCore

/// Hands out valid access tokens: refreshes **before** expiry and once after a 401, with exactly one
/// refresh in flight per account (docs/security.md, "Keeping an account connected").
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
    /// Tokens Zoom issued that the store failed to save, by account. Zoom rotates refresh tokens, so the old
    /// one is dead once these exist: they are used in place of the stored ones until a save succeeds.
    private var unsaved: [String: OAuthTokens] = [:]
    /// Accounts whose tokens last worked (see `connectedAccountCount`).
    private var usable: Set<String> = []
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
        try await tracking(account) { try await self.currentAccessToken(account: account) }
    }

    /// Refreshes because Zoom answered 401 to `rejected`. If someone already replaced that token, the newer
    /// one is returned without another refresh.
    public func accessTokenAfterUnauthorized(account: String, rejected: String) async throws -> String {
        try await tracking(account) {
            await self.saveUnsaved(account: account)
            return try await self.refresh(account: account, replacing: rejected).accessToken
        }
    }

    /// How many accounts hold usable tokens, as of their last use, the last refresh pass (every minute) or a
    /// login on this instance: what `/health` shows, without a store read per request.
    public var connectedAccountCount: Int { usable.count }

    /// A login stored tokens for `account`.
    public func connected(_ account: String) {
        usable.insert(account)
    }

    /// Runs `body` for `account` and keeps `usable` in step with its outcome.
    private func tracking(_ account: String, _ body: () async throws -> String) async throws -> String {
        do {
            let token = try await body()
            usable.insert(account)
            return token
        } catch let error as ZoomAPIError {
            if case .notAuthenticated = error { usable.remove(account) }
            throw error
        }
    }

    private func currentAccessToken(account: String) async throws -> String {
        await saveUnsaved(account: account)
        let tokens: OAuthTokens
        if let pending = unsaved[account] {
            tokens = pending
        } else {
            let state = try await store.load(account: account)
            guard let state, let stored = state.tokens, state.problem == nil else {
                throw ZoomAPIError.notAuthenticated(state?.problem ?? "not connected to Zoom: use Connect to Zoom")
            }
            tokens = stored
        }
        if tokens.expiresAtMillis - EventClock.nowMillis() > margin.components.seconds * 1000 {
            return tokens.accessToken
        }
        return try await refresh(account: account, replacing: tokens.accessToken).accessToken
    }

    /// The accounts whose rotated refresh token the store has not taken yet (`/health` reports them).
    public var accountsWithUnsavedTokens: [String] { unsaved.keys.sorted() }

    /// Single-flight refresh: concurrent callers share one task.
    private func refresh(account: String, replacing stale: String) async throws -> OAuthTokens {
        if let task = inFlight[account] { return try await task.value }
        let task = Task { try await self.performRefresh(account: account, replacing: stale) }
        inFlight[account] = task
        defer { inFlight[account] = nil }
        return try await task.value
    }

    /// What one refresh under the lock came to.
    private enum Outcome: Sendable {
        /// Someone else had refreshed already: use these.
        case current(OAuthTokens)
        /// Zoom issued these; `saveFailure` says why the store did not take them, if it did not.
        case refreshed(OAuthTokens, saveFailure: String?)
    }

    private func performRefresh(account: String, replacing stale: String) async throws -> OAuthTokens {
        let store = self.store, oauth = self.oauth, logger = self.logger
        let pending = unsaved[account]
        let outcome = try await store.withRefreshLock(account: account) { () async throws -> Outcome in
            let current: OAuthTokens
            if let pending {
                current = pending
            } else {
                guard let state = try await store.load(account: account), let stored = state.tokens, state.problem == nil else {
                    throw ZoomAPIError.notAuthenticated("not connected to Zoom: use Connect to Zoom")
                }
                current = stored
            }
            if current.accessToken != stale {
                // Another caller (or instance) refreshed while we waited for the lock.
                return .current(current)
            }
            do {
                let fresh = try await oauth.refresh(refreshToken: current.refreshToken)
                // Persist the rotated refresh token before anything uses it.
                do {
                    try await store.save(account: account, tokens: fresh)
                } catch {
                    return .refreshed(fresh, saveFailure: "\(error)")
                }
                logger.info("refreshed Zoom access token", metadata: ["account": "\(account)"])
                return .refreshed(fresh, saveFailure: nil)
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
        switch outcome {
        case .current(let tokens):
            return tokens
        case .refreshed(let fresh, let saveFailure):
            refreshCount += 1
            if let saveFailure {
                // The old refresh token is dead now: these are the only copy. Keep and use them, and save again
                // on every later call and on every pass of the refresh service until the store takes them.
                unsaved[account] = fresh
                logger.error("could not save the rotated Zoom refresh token; keeping it in memory and retrying (see /health)",
                             metadata: ["account": "\(account)", "error": "\(saveFailure)"])
            } else {
                unsaved[account] = nil
            }
            return fresh
        }
    }

    /// Saves the tokens the store refused before, if any. On success they are no longer reported.
    private func saveUnsaved(account: String) async {
        guard let pending = unsaved[account] else { return }
        do {
            try await store.save(account: account, tokens: pending)
        } catch {
            logger.warning("the rotated Zoom refresh token still cannot be saved", metadata: ["account": "\(account)", "error": "\(error)"])
            return
        }
        // A refresh may have replaced them while this save ran; only what was saved stops being reported.
        if unsaved[account]?.refreshToken == pending.refreshToken {
            unsaved[account] = nil
            logger.notice("saved the rotated Zoom refresh token that could not be saved before", metadata: ["account": "\(account)"])
        }
    }

    /// Refreshes every account whose token expires within the margin, and saves again the rotated tokens the
    /// store refused before (run periodically).
    public func refreshExpiring() async {
        let stored = (try? await store.accounts()) ?? []
        for account in Set(stored + unsaved.keys).sorted() {
            do { _ = try await accessToken(account: account) } catch {
                logger.warning("proactive refresh failed", metadata: ["account": "\(account)", "error": "\(error)"])
            }
        }
    }
}
