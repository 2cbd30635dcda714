import Crypto
import Foundation

/// Zoom's OAuth server state: authorization codes (single-use, PKCE-bound), access tokens with a lifetime and
/// rotating refresh tokens (a used refresh token is dead; docs/zoom-rtms.md, "OAuth").
actor OAuthAuthority {
    /// An OAuth error as Zoom returns it: HTTP status plus `error` and `reason`.
    struct Failure: Error, Sendable {
        var status: Int
        var error: String
        var reason: String
    }

    /// A successful token response body.
    struct TokenResponse: Encodable, Sendable {
        var accessToken: String
        var tokenType = "bearer"
        var refreshToken: String?
        var expiresIn: Int
        var scope: String
        var apiURL: String
        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token", tokenType = "token_type", refreshToken = "refresh_token"
            case expiresIn = "expires_in", scope, apiURL = "api_url"
        }
    }

    private struct PendingCode {
        var redirectURI: String
        var challenge: String?
        var challengeMethod: String
        var expires: ContinuousClock.Instant
    }

    static let scope = "contact_center:update:engagement_rtms_app_status contact_center:read:zcc_voice_audio contact_center:read:zcc_voice_transcript"

    private let clientID: String
    private let clientSecret: String
    private let accessLifetime: Duration
    private let codeLifetime: Duration
    private var apiURL = ""
    private var codes: [String: PendingCode] = [:]
    private var accessTokens: [String: ContinuousClock.Instant] = [:]
    private var refreshTokens: Set<String> = []

    init(clientID: String, clientSecret: String, accessLifetime: Duration, codeLifetime: Duration) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.accessLifetime = accessLifetime
        self.codeLifetime = codeLifetime
    }

    func setAPIURL(_ url: String) { apiURL = url }

    /// Handles `GET /oauth/authorize`: records the code with its redirect URI and PKCE challenge.
    func authorize(clientID: String?, redirectURI: String?, responseType: String?, challenge: String?, challengeMethod: String?) throws(Failure) -> String {
        guard clientID == self.clientID else { throw Failure(status: 400, error: "invalid_client", reason: "Invalid client_id") }
        guard responseType == nil || responseType == "code" else {
            throw Failure(status: 400, error: "unsupported_response_type", reason: "Unsupported response type")
        }
        guard let redirectURI, !redirectURI.isEmpty, URL(string: redirectURI)?.scheme != nil else {
            throw Failure(status: 400, error: "invalid_request", reason: "Invalid redirect uri")
        }
        let method = challengeMethod ?? "plain"
        guard method == "S256" || method == "plain" else {
            throw Failure(status: 400, error: "invalid_request", reason: "Unsupported code_challenge_method")
        }
        let code = Self.randomToken()
        codes[code] = PendingCode(redirectURI: redirectURI, challenge: challenge, challengeMethod: method, expires: .now + codeLifetime)
        return code
    }

    /// Checks HTTP Basic client authentication.
    func authenticateClient(authorization: String?) throws(Failure) {
        guard let authorization, authorization.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(authorization.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let pair = String(data: decoded, encoding: .utf8)
        else { throw Failure(status: 401, error: "invalid_client", reason: "Invalid client_id or client_secret") }
        guard HMACHex.constantTimeEqual(pair, "\(clientID):\(clientSecret)") else {
            throw Failure(status: 401, error: "invalid_client", reason: "Invalid client_id or client_secret")
        }
    }

    /// `grant_type=authorization_code`: single-use code, matching redirect URI, PKCE verified.
    func exchange(code: String?, redirectURI: String?, verifier: String?) throws(Failure) -> TokenResponse {
        guard let code, let pending = codes.removeValue(forKey: code) else {
            throw Failure(status: 400, error: "invalid_grant", reason: "Invalid authorization code")
        }
        guard pending.expires > .now else { throw Failure(status: 400, error: "invalid_grant", reason: "Authorization code expired") }
        guard redirectURI == pending.redirectURI else { throw Failure(status: 400, error: "invalid_grant", reason: "Redirect URI mismatch") }
        if let challenge = pending.challenge {
            guard let verifier else { throw Failure(status: 400, error: "invalid_grant", reason: "Missing code_verifier") }
            let computed = pending.challengeMethod == "S256" ? Self.s256(verifier) : verifier
            guard HMACHex.constantTimeEqual(computed, challenge) else {
                throw Failure(status: 400, error: "invalid_grant", reason: "Invalid code_verifier")
            }
        }
        return issue(withRefresh: true)
    }

    /// `grant_type=refresh_token`: rotates; the presented token dies whether or not the caller keeps the answer.
    func refresh(token: String?) throws(Failure) -> TokenResponse {
        guard let token, refreshTokens.remove(token) != nil else {
            throw Failure(status: 400, error: "invalid_grant", reason: "Invalid Token!")
        }
        return issue(withRefresh: true)
    }

    /// `grant_type=account_credentials` (Server-to-Server): no refresh token.
    func accountCredentials() -> TokenResponse { issue(withRefresh: false) }

    /// Mints a token directly (tests and the demo, which have no browser to run the authorize step).
    func mintAccessToken() -> String { issue(withRefresh: false).accessToken }

    /// Whether a bearer token is known and unexpired.
    func isValid(accessToken: String) -> Bool {
        guard let expires = accessTokens[accessToken] else { return false }
        if expires <= .now {
            accessTokens[accessToken] = nil
            return false
        }
        return true
    }

    private func issue(withRefresh: Bool) -> TokenResponse {
        let access = Self.randomToken(bytes: 48)
        accessTokens[access] = .now + accessLifetime
        var refresh: String?
        if withRefresh {
            let token = Self.randomToken(bytes: 48)
            refreshTokens.insert(token)
            refresh = token
        }
        let seconds = max(1, Int(accessLifetime.milliseconds / 1000))
        return TokenResponse(accessToken: access, refreshToken: refresh, expiresIn: seconds, scope: Self.scope, apiURL: apiURL)
    }

    static func s256(_ verifier: String) -> String {
        base64URL(Data(SHA256.hash(data: Data(verifier.utf8))))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func randomToken(bytes: Int = 24) -> String {
        base64URL(Data((0..<bytes).map { _ in UInt8.random(in: 0...255) }))
    }
}
