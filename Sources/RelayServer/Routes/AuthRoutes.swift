import Foundation
import Hummingbird
import Logging
import RelayCore
import ZoomAPI

/// `GET /api/auth/status`: the Zoom connection of the caller's account (every account for the operator).
struct AuthStatus: Encodable {
    var authenticated: Bool
    var expires_at: String?
    var account: String?
    var problem: String?
    var configured: Bool
    /// The operator's view: one entry per connected account.
    var accounts: [Account]?

    struct Account: Encodable {
        var account: String
        var authenticated: Bool
        var expires_at: String?
        var problem: String?
    }
}

/// `POST /api/auth/login` answer: where to send the browser.
struct LoginStarted: Encodable {
    var authorize_url: String
}

/// Connecting the relay to a Zoom account (docs/security.md, "Connecting a Zoom account"): only the operator, or
/// a Zoom owner or admin of the account being connected, may do it.
///
/// - `POST /api/auth/login` needs a caller (the operator token, or a session from the Home URL). Who started is
///   signed into the OAuth `state`.
/// - `GET /api/auth/callback` is where Zoom sends the browser back. It asks Zoom (`/users/me`) whom the new token
///   belongs to. A login started by a session is kept only when that same user is an owner or admin of that same
///   account. Tokens are stored under the account Zoom names, never a default.
/// - The browser is sent back to `/?auth=success` or `/?auth=error&reason=<code>`, a fixed code the page turns
///   into a fixed sentence: nothing from the request or from internal errors is reflected.
struct AuthRoutes {
    let zoom: ZoomConnection?
    let logger: Logger

    /// The `reason` codes of a failed connect, as the page shows them.
    enum Failure: String {
        case declined, expired, noCode = "no_code", notAdmin = "not_admin", zoomFailed = "zoom_failed"
    }

    func addCallback(to router: Router<RelayRequestContext>) {
        router.get("/api/auth/callback") { request, _ -> Response in
            guard let zoom else { throw Self.notConfigured }
            return await callback(request, zoom: zoom)
        }
    }

    func addProtected(to group: RouterGroup<RelayRequestContext>) {
        group.post("/api/auth/login") { _, context -> Response in
            guard let zoom else { throw Self.notConfigured }
            let caller = try context.requireCaller()
            let starter = zoom.loginStarters.issue(uid: caller.session?.uid ?? "", aid: caller.session?.aid)
            let (state, pkce): (String, PKCE)
            do {
                (state, pkce) = try await zoom.logins.begin(prefix: starter + "~", client: context.channel.remoteAddress?.ipAddress)
            } catch let refusal as PendingLogins.Refusal {
                guard case .full = refusal else { throw HTTPError(.tooManyRequests, headers: [.retryAfter: "60"], message: "\(refusal)") }
                throw HTTPError(.serviceUnavailable, headers: [.retryAfter: "60"], message: "\(refusal)")
            }
            let url = zoom.oauth.authorizeURL(redirectURI: zoom.redirectURI, state: state, pkce: pkce)
            return try Response.json(LoginStarted(authorize_url: url))
        }
        group.get("/api/auth/status") { _, context -> Response in
            let caller = try context.requireCaller()
            guard let zoom else {
                return try Response.json(AuthStatus(authenticated: false, problem: "Zoom app credentials are not configured", configured: false))
            }
            if let account = caller.account {
                let state = try await zoom.store.load(account: account)
                return try Response.json(AuthStatus(
                    authenticated: state?.isAuthenticated ?? false, expires_at: state?.tokens.map { EventClock.iso8601(millis: $0.expiresAtMillis) },
                    account: account, problem: state == nil ? "your Zoom account is not connected: an admin of it must use Connect to Zoom" : state?.problem,
                    configured: true
                ))
            }
            guard caller.isOperator else {
                return try Response.json(AuthStatus(authenticated: false, problem: "the session names no Zoom account", configured: true))
            }
            var accounts: [AuthStatus.Account] = []
            for account in try await zoom.store.accounts() {
                let state = try await zoom.store.load(account: account)
                accounts.append(.init(account: account, authenticated: state?.isAuthenticated ?? false,
                                      expires_at: state?.tokens.map { EventClock.iso8601(millis: $0.expiresAtMillis) }, problem: state?.problem))
            }
            let single = accounts.count == 1 ? accounts.first : nil
            return try Response.json(AuthStatus(
                authenticated: !accounts.isEmpty && accounts.allSatisfy(\.authenticated), expires_at: single?.expires_at,
                account: single?.account, problem: accounts.isEmpty ? "no Zoom account is connected" : accounts.first { $0.problem != nil }?.problem,
                configured: true, accounts: accounts
            ))
        }
    }

    private func callback(_ request: Request, zoom: ZoomConnection) async -> Response {
        func back(_ failure: Failure?) -> Response {
            let location = failure.map { "/?auth=error&reason=\($0.rawValue)" } ?? "/?auth=success"
            return Response(status: .found, headers: [.location: location, .cacheControl: "no-store"])
        }
        let query = request.uri.queryParameters
        if let error = query["error"] {
            logger.warning("Zoom authorization declined", metadata: ["error": "\(error)"])
            return back(.declined)
        }
        guard let state = query["state"].map(String.init), let pkce = await zoom.logins.finish(state: state),
              let starter = state.split(separator: "~").first.flatMap({ zoom.loginStarters.verify(String($0)) }) else {
            logger.warning("OAuth callback with an unknown, expired or forged state")
            return back(.expired)
        }
        guard let code = query["code"].map(String.init), !code.isEmpty else { return back(.noCode) }
        let tokens: OAuthTokens, owner: ZoomRESTClient.TokenOwner
        do {
            tokens = try await zoom.oauth.exchange(code: code, redirectURI: zoom.redirectURI, verifier: pkce.verifier)
            owner = try await zoom.rest.tokenOwner(accessToken: tokens.accessToken)
        } catch {
            logger.error("OAuth code exchange failed", metadata: ["error": "\(error)"])
            return back(.zoomFailed)
        }
        // A login a session started connects only that user's own account, and only if they administer it.
        if !starter.uid.isEmpty, owner.user != starter.uid || owner.account != starter.aid || !owner.isAdmin {
            logger.warning("refused to connect a Zoom account: the login was not completed by an admin of the starter's account",
                           metadata: ["starter": "\(starter.uid)", "authorizer": "\(owner.user)", "account": "\(owner.account)", "admin": "\(owner.isAdmin)"])
            return back(.notAdmin)
        }
        do {
            try await zoom.store.save(account: owner.account, tokens: tokens)
            await zoom.refresher.connected(owner.account)
        } catch {
            logger.error("could not store the Zoom tokens", metadata: ["account": "\(owner.account)", "error": "\(error)"])
            return back(.zoomFailed)
        }
        logger.info("connected to Zoom", metadata: ["account": "\(owner.account)", "authorized_by": "\(owner.user)", "started_by": "\(starter.uid.isEmpty ? "operator" : starter.uid)"])
        return back(nil)
    }

    static var notConfigured: HTTPError {
        HTTPError(.serviceUnavailable, message: "Zoom app credentials are not configured (zoom.client_id and zoom.client_secret)")
    }
}
