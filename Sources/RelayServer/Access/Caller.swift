import ZoomAPI

/// Who is calling the browser API, as decided by `AccessControlMiddleware`.
public enum Caller: Sendable, Hashable {
    /// Anyone, because `server.allow_anonymous` is on (loopback demos only).
    case anonymous
    /// An operator or script with `server.access_token`.
    case `operator`
    /// An agent, through the session token handed out on the Home URL.
    case user(SessionToken)

    /// How `stream.requested` events name who asked.
    public var label: String {
        switch self {
        case .anonymous: "anonymous"
        case .operator: "operator"
        case .user(let token): "user:\(token.uid)"
        }
    }

    /// The Zoom account the caller belongs to, when known.
    public var account: String? {
        if case .user(let token) = self { return token.aid }
        return nil
    }
}
