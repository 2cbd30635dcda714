import ZoomAPI

/// Who is calling the browser API, as decided by `AccessControlMiddleware`. What each may see and do is decided
/// in one place, `EngagementAccess`; docs/security.md has the table.
public enum Caller: Sendable, Hashable {
    /// Anyone on this machine, because `server.allow_anonymous` is on (loopback demos only): the operator's rights.
    case anonymous
    /// An operator or script with `server.access_token`: every engagement of every account.
    case `operator`
    /// An agent, through the session token handed out on the Home URL: the engagements they are on.
    case agent(SessionToken)
    /// An agent listed in `access.supervisors`: every engagement of their own account; control only when
    /// `access.supervisors_control` is on.
    case supervisor(SessionToken, mayControl: Bool)
    /// A QA reviewer listed in `access.qa`: every recorded call of their own account; live, only the calls they
    /// are on, like an agent.
    case qa(SessionToken)

    /// How `stream.requested` events name who asked.
    public var label: String {
        switch self {
        case .anonymous: "anonymous"
        case .operator: "operator"
        case .agent(let token): "user:\(token.uid)"
        case .supervisor(let token, _): "supervisor:\(token.uid)"
        case .qa(let token): "qa:\(token.uid)"
        }
    }

    /// The Zoom account a session caller belongs to; nil for the operator and anonymous callers.
    public var account: String? { session?.aid }

    /// The session token of an agent or supervisor.
    public var session: SessionToken? {
        switch self {
        case .agent(let token), .supervisor(let token, _), .qa(let token): token
        case .anonymous, .operator: nil
        }
    }

    /// The operator, or anonymous on loopback, which has the operator's rights.
    public var isOperator: Bool { session == nil }

    /// A short key that identifies the caller for per-caller limits.
    var limitKey: String {
        guard let session else { return label }
        return "\(session.aid ?? "")/\(session.uid)"
    }
}
