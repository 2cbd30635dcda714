/// The tokens of one Zoom account, as the token store keeps them.
public struct OAuthTokens: Sendable, Hashable, Codable {
    public var accessToken: String
    public var refreshToken: String
    /// When the access token expires, epoch milliseconds.
    public var expiresAtMillis: Int64
    public var scope: String?

    public init(accessToken: String, refreshToken: String, expiresAtMillis: Int64, scope: String? = nil) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAtMillis = expiresAtMillis
        self.scope = scope
    }

    /// Redacted: tokens never reach a log through a description.
    public var description: String { "OAuthTokens(expires_at: \(expiresAtMillis), [redacted])" }
}

extension OAuthTokens: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["expiresAtMillis": expiresAtMillis]) }
}

/// What the token store knows about an account: its tokens, or why it is not authenticated.
public struct AccountAuthState: Sendable, Hashable {
    public var account: String
    public var tokens: OAuthTokens?
    /// Why the account needs "Connect to Zoom" again (a failed refresh), nil when fine.
    public var problem: String?

    public init(account: String, tokens: OAuthTokens?, problem: String? = nil) {
        self.account = account
        self.tokens = tokens
        self.problem = problem
    }

    public var isAuthenticated: Bool { tokens != nil && problem == nil }
}
