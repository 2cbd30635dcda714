import Foundation
import Hummingbird
import Logging
import RelayCore
import ZoomAPI

/// `{"authenticated": bool, "expires_at": …}` (SPEC §5.1), with the reason when a refresh failed.
struct AuthStatus: Encodable {
    var authenticated: Bool
    var expires_at: String?
    var account: String?
    var problem: String?
    var configured: Bool
}

extension Router where Context == RelayRequestContext {
    /// `GET /api/auth/login`, `/api/auth/callback`, `/api/auth/status` (SPEC §5.3).
    func addAuthRoutes(zoom: ZoomConnection?, logger: Logger) {
        get("/api/auth/login") { _, _ -> Response in
            guard let zoom else { throw Self.notConfigured }
            let (state, pkce) = await zoom.logins.begin()
            let url = zoom.oauth.authorizeURL(redirectURI: zoom.redirectURI, state: state, pkce: pkce)
            return Response(status: .found, headers: [.location: url, .cacheControl: "no-store"])
        }
        get("/api/auth/callback") { request, _ -> Response in
            guard let zoom else { throw Self.notConfigured }
            func back(_ outcome: String, _ reason: String? = nil) -> Response {
                var location = "/?auth=\(outcome)"
                if let reason { location += "&reason=" + ZoomOAuthClient.formEncode(reason) }
                return Response(status: .found, headers: [.location: location, .cacheControl: "no-store"])
            }
            let query = request.uri.queryParameters
            if let error = query["error"] {
                logger.warning("Zoom authorization declined", metadata: ["error": "\(error)"])
                return back("error", "Zoom authorization was declined (\(error))")
            }
            guard let state = query["state"].map(String.init), let pkce = await zoom.logins.finish(state: state) else {
                logger.warning("OAuth callback with an unknown or expired state")
                return back("error", "the login expired or was already used; start again")
            }
            guard let code = query["code"].map(String.init), !code.isEmpty else {
                return back("error", "Zoom sent no authorization code")
            }
            do {
                let tokens = try await zoom.oauth.exchange(code: code, redirectURI: zoom.redirectURI, verifier: pkce.verifier)
                let account = try await zoom.rest.accountID(accessToken: tokens.accessToken) ?? TokenRefreshService.defaultAccount
                try await zoom.store.save(account: account, tokens: tokens)
                logger.info("connected to Zoom", metadata: ["account": "\(account)"])
                return back("success")
            } catch {
                logger.error("OAuth code exchange failed", metadata: ["error": "\(error)"])
                return back("error", "\(error)")
            }
        }
        get("/api/auth/status") { _, _ -> Response in
            guard let zoom else {
                return try Response.json(AuthStatus(authenticated: false, problem: "Zoom app credentials are not configured", configured: false))
            }
            let account = try await zoom.store.accounts().first
            let state = try await account.asyncMap { try await zoom.store.load(account: $0) } ?? nil
            return try Response.json(AuthStatus(
                authenticated: state?.isAuthenticated ?? false,
                expires_at: state?.tokens.map { EventClock.iso8601(millis: $0.expiresAtMillis) },
                account: account, problem: state?.problem, configured: true
            ))
        }
    }

    static var notConfigured: HTTPError {
        HTTPError(.serviceUnavailable, message: "Zoom app credentials are not configured (zoom.client_id and zoom.client_secret)")
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
