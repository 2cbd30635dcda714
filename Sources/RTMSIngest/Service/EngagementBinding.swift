import NIOConcurrencyHelpers
import RelayCore

/// Which Zoom account an engagement belongs to and which agents are on it: what access control checks a
/// caller against (docs/security.md, "How an engagement is bound to an agent").
///
/// Learned from the `contact_center.engagement_started` webhook when it names them, or from Zoom's engagement
/// REST resource when it does not (the relay asks once and keeps the answer).
public struct EngagementBinding: Sendable, Hashable {
    /// The Zoom account id, when known.
    public var account: String?
    /// Zoom user ids of the agents on the engagement; empty when Zoom has not named any yet.
    public var agents: Set<String>

    public init(account: String?, agents: Set<String>) {
        self.account = account
        self.agents = agents
    }

    /// True when the relay knows both the account and at least one agent.
    public var namesAgents: Bool { account != nil && !agents.isEmpty }

    /// What an engagement webhook's payload says: `payload.account_id`, and the agents in `payload.object` as
    /// `agents[].user_id` (the engagement resource's shape) or a single `user_id` (the shape of the
    /// `engagement_user_*` events). Ids longer than 256 characters are ignored.
    public init(webhookPayload payload: JSONValue) {
        account = Self.id(payload["account_id"])
        let object = payload["object"] ?? .null
        var agents = Set<String>()
        if case .array(let list) = object["agents"] ?? .null {
            for agent in list.prefix(64) { if let id = Self.id(agent["user_id"]) { agents.insert(id) } }
        }
        if let id = Self.id(object["user_id"]) { agents.insert(id) }
        self.agents = agents
    }

    private static func id(_ value: JSONValue?) -> String? {
        guard let text = value?.stringValue, !text.isEmpty, text.utf8.count <= 256 else { return nil }
        return text
    }
}

/// The bindings of every engagement the registry knows, readable without awaiting the registry: the live feed
/// filters each message by account while holding its own lock.
public final class EngagementBindings: Sendable {
    private let bindings = NIOLockedValueBox<[String: EngagementBinding]>([:])

    public init() {}

    /// The binding of `engagementID`, or nil when the relay has never heard of it.
    public func binding(of engagementID: String) -> EngagementBinding? {
        bindings.withLockedValue { $0[engagementID] }
    }

    /// Merges what was learned: a known account is never replaced by another one (an engagement does not move
    /// between accounts), and agents add up (a transfer brings a second agent).
    public func learn(_ engagementID: String, _ learned: EngagementBinding) {
        bindings.withLockedValue { all in
            var current = all[engagementID] ?? EngagementBinding(account: nil, agents: [])
            if current.account == nil { current.account = learned.account }
            guard current.account == learned.account || learned.account == nil else { return }
            current.agents.formUnion(learned.agents)
            all[engagementID] = current
        }
    }

    func forget(_ engagementIDs: [String]) {
        bindings.withLockedValue { all in for id in engagementIDs { all[id] = nil } }
    }
}
