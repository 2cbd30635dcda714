import AsyncHTTPClient
import Foundation
import RelayCore

/// Zoom's OAuth endpoints (docs/zoom-rtms.md, "OAuth"): the authorize URL, and the token endpoint with Basic
/// client authentication for the authorization-code and refresh grants.
public struct ZoomOAuthClient: Sendable {
    public let oauthURL: String
    public let clientID: String
    let clientSecret: Secret
    let http: ZoomHTTP

    public init(oauthURL: String, clientID: String, clientSecret: Secret, httpClient: HTTPClient = .shared, timeout: Duration = .seconds(10)) {
        self.oauthURL = oauthURL.hasSuffix("/") ? String(oauthURL.dropLast()) : oauthURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        http = ZoomHTTP(client: httpClient, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
    }

    /// Where to send the browser to start a login.
    public func authorizeURL(redirectURI: String, state: String, pkce: PKCE) -> String {
        var components = URLComponents(string: oauthURL + "/oauth/authorize")!
        components.queryItems = [
            URLQueryItem(name: "response_type", value: "code"),
            URLQueryItem(name: "client_id", value: clientID),
            URLQueryItem(name: "redirect_uri", value: redirectURI),
            URLQueryItem(name: "state", value: state),
            URLQueryItem(name: "code_challenge", value: pkce.challenge),
            URLQueryItem(name: "code_challenge_method", value: PKCE.method),
        ]
        return components.string!
    }

    /// Exchanges an authorization code (single-use, 5 minutes) for tokens.
    public func exchange(code: String, redirectURI: String, verifier: String) async throws -> OAuthTokens {
        try await token([
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI), ("code_verifier", verifier),
        ], previousRefreshToken: nil)
    }

    /// Trades a refresh token for new tokens. Zoom rotates refresh tokens: the old one is dead afterwards.
    public func refresh(refreshToken: String) async throws -> OAuthTokens {
        try await token([("grant_type", "refresh_token"), ("refresh_token", refreshToken)], previousRefreshToken: refreshToken)
    }

    private func token(_ parameters: [(String, String)], previousRefreshToken: String?) async throws -> OAuthTokens {
        let basic = Data("\(clientID):\(clientSecret.value)".utf8).base64EncodedString()
        let body = parameters.map { "\($0.0)=\(Self.formEncode($0.1))" }.joined(separator: "&")
        let reply = try await http.send(.POST, oauthURL + "/oauth/token", headers: [
            ("Authorization", "Basic \(basic)"), ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json"),
        ], body: Data(body.utf8))
        guard reply.status == 200 else {
            let message = ZoomErrorBody.message(from: reply.body) ?? "HTTP \(reply.status)"
            // Only a verdict on the grant itself kills the refresh token: `invalid_grant`, or Zoom's "Invalid
            // Token" reason. Anything else (a 401 for the app's own credentials, a transient 400) keeps it, so
            // that fixing the cause or retrying needs no admin to reconnect.
            if Self.refusesGrant(status: reply.status, body: reply.body) { throw ZoomAPIError.invalidGrant(message) }
            throw ZoomAPIError.zoom(status: reply.status, message: message)
        }
        struct TokenResponse: Decodable {
            var access_token: String
            var refresh_token: String?
            var expires_in: Int?
            var scope: String?
        }
        guard let decoded = try? JSONDecoder().decode(TokenResponse.self, from: reply.body) else {
            throw ZoomAPIError.zoom(status: 502, message: "the token endpoint answered without an access_token")
        }
        guard let refreshToken = decoded.refresh_token ?? previousRefreshToken else {
            throw ZoomAPIError.zoom(status: 502, message: "the token endpoint answered without a refresh_token")
        }
        // Zoom documents 3600 s; the original app assumed that when expires_in is missing.
        let expiresAt = EventClock.nowMillis() + Int64(decoded.expires_in ?? 3600) * 1000
        return OAuthTokens(accessToken: decoded.access_token, refreshToken: refreshToken, expiresAtMillis: expiresAt, scope: decoded.scope)
    }

    /// Whether a token endpoint error says the code or refresh token itself is dead.
    static func refusesGrant(status: Int, body: Data) -> Bool {
        guard status == 400, let error = try? JSONDecoder().decode(ZoomErrorBody.self, from: body) else { return false }
        return error.error == "invalid_grant" || error.reason?.lowercased().hasPrefix("invalid token") == true
    }

    /// Percent-encodes a form or query value (RFC 3986 unreserved characters pass).
    public static func formEncode(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
