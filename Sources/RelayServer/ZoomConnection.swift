import AsyncHTTPClient
import Logging
import RelayCore
import ServiceLifecycle
import ZoomAPI

/// Everything the relay needs to act on the Zoom account: OAuth, the token store and refresher, REST.
/// Exists only when `zoom.client_id` and `zoom.client_secret` are configured.
public struct ZoomConnection: Sendable {
    public let oauth: ZoomOAuthClient
    public let store: any TokenStore
    public let refresher: TokenRefresher
    public let rest: ZoomRESTClient
    public let logins: PendingLogins
    /// Signs the agents' session tokens.
    public let signer: SessionToken.Signer
    /// Signs who started a login into its OAuth `state`, so that the callback knows whom to check.
    let loginStarters: SessionToken.Signer
    /// `{public_url}/api/auth/callback`, registered as the app's redirect URL.
    public let redirectURI: String

    /// - Parameter logins: where logins in progress are kept (shared through Redis in cluster mode).
    /// - Parameter httpClient: the client for OAuth and REST; by default the one for `zoom.proxy` (`HTTPClient.zoom(proxy:)`).
    public init(configuration: RelayConfiguration, logger: Logger, httpClient: HTTPClient? = nil, logins: PendingLogins = PendingLogins()) throws {
        let zoom = configuration.zoom
        let httpClient = httpClient ?? .zoom(proxy: zoom.proxy)
        oauth = ZoomOAuthClient(oauthURL: zoom.oauthURL, clientID: zoom.clientID, clientSecret: zoom.clientSecret, httpClient: httpClient)
        switch configuration.tokenStore.kind {
        case .sqlite:
            store = try SQLiteTokenStore(path: configuration.tokenStore.path, cipher: TokenCipher(clientSecret: zoom.clientSecret.value))
        case .redis:
            do {
                store = try RedisTokenStore(url: configuration.tokenStore.url.value, cipher: TokenCipher(clientSecret: zoom.clientSecret.value))
            } catch {
                throw configuration.error(at: "token_store.url", "\(error)")
            }
        }
        refresher = TokenRefresher(store: store, oauth: oauth, logger: logger)
        rest = ZoomRESTClient(apiURL: zoom.apiURL, clientID: zoom.clientID, refresher: refresher, httpClient: httpClient)
        self.logins = logins
        signer = SessionToken.Signer(clientSecret: zoom.clientSecret.value, lifetime: .seconds(Int64(configuration.access.sessionMinutes) * 60))
        loginStarters = SessionToken.Signer(clientSecret: zoom.clientSecret.value, lifetime: .seconds(600), purpose: "rtms-relay oauth login starter v1")
        let base = configuration.server.publicURL.hasSuffix("/") ? String(configuration.server.publicURL.dropLast()) : configuration.server.publicURL
        redirectURI = base + "/api/auth/callback"
    }
}

/// Refreshes tokens before they expire, every `interval`, until shutdown.
struct TokenRefreshService: Service {
    let refresher: TokenRefresher
    let interval: Duration

    func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            await refresher.refreshExpiring()
            // Wake up at once on shutdown instead of sleeping out the interval.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }
}
