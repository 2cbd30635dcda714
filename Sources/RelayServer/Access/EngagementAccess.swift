import Hummingbird
import Logging
import RTMSIngest
import RelayCore
import ZoomAPI

/// The one place that decides what a caller may see and do with an engagement (docs/security.md, "Access
/// model"):
///
/// | caller | sees | controls |
/// |---|---|---|
/// | operator (and anonymous on loopback) | every engagement | every engagement |
/// | supervisor | every engagement of their account | the same, with `access.supervisors_control` |
/// | agent | the engagements of their account they are on | the same |
/// | QA reviewer | live: like an agent; recordings: every call of their account | like an agent |
///
/// An engagement is bound to its account and agents by the engagement webhook when it names them; otherwise a
/// session caller's first request makes the relay ask Zoom's REST API once, with that caller's account, and the
/// answer is kept (`EngagementBindings`). An engagement nobody can bind is the operator's only.
struct EngagementAccess: Sendable {
    enum Need: Sendable { case see, control }

    let bindings: EngagementBindings
    let lookups: EngagementLookups?

    /// Whether `caller` may see `engagement` from what the relay already knows (no REST call): the filter of the
    /// engagement lists and of a supervisor's live feed.
    func canSee(_ caller: Caller, _ engagement: String) -> Bool {
        Self.sees(caller, bindings.binding(of: engagement))
    }

    static func sees(_ caller: Caller, _ binding: EngagementBinding?) -> Bool {
        switch caller {
        case .operator, .anonymous:
            return true
        case .supervisor(let token, _):
            guard let account = token.aid, let bound = binding?.account else { return false }
            return bound == account
        case .agent(let token), .qa(let token):
            guard let account = token.aid, let binding, binding.account == account else { return false }
            return binding.agents.contains(token.uid)
        }
    }

    /// Refuses (404, so that ids of other people's calls cannot be probed; 403 for a read-only supervisor)
    /// unless `caller` may `need` `engagement`. May ask Zoom once who is on an engagement the webhooks did not
    /// bind.
    func check(_ caller: Caller, engagement: String, need: Need) async throws {
        var binding = bindings.binding(of: engagement)
        if !Self.sees(caller, binding), let session = caller.session, let account = session.aid, let lookups,
           binding?.agents.isEmpty ?? true, binding?.account == nil || binding?.account == account,
           let agents = await lookups.agents(of: engagement, account: account) {
            bindings.learn(engagement, EngagementBinding(account: account, agents: agents))
            binding = bindings.binding(of: engagement)
        }
        guard Self.sees(caller, binding) else {
            throw HTTPError(.notFound, message: "no engagement '\(engagement)' that you may see")
        }
        if need == .control, case .supervisor(_, let mayControl) = caller, !mayControl {
            throw HTTPError(.forbidden, message: "supervisors may watch but not control RTMS (access.supervisors_control is off)")
        }
    }

    /// The live feed a request without `engagement=` may have: everything for the operator, the own account for
    /// a supervisor, nothing for an agent (nil).
    func firehose(for caller: Caller) -> EventScope? {
        switch caller {
        case .operator, .anonymous:
            return .all
        case .supervisor(let token, _):
            guard let account = token.aid else { return nil }
            let bindings = self.bindings
            return .filtered { bindings.binding(of: $0)?.account == account }
        case .agent, .qa:
            return nil
        }
    }

    /// The recorded calls `caller` may find and play: all for the operator, their account's for QA reviewers and
    /// supervisors, the calls of their account they were on for an agent; nil (none) without an account.
    func recordings(for caller: Caller) -> CallScope? {
        switch caller {
        case .operator, .anonymous:
            return .all
        case .supervisor(let token, _), .qa(let token):
            return token.aid.map { .account($0) }
        case .agent(let token):
            return token.aid.map { .agent(account: $0, userID: token.uid) }
        }
    }
}

/// Asks Zoom who is on an engagement, at most once per engagement and account at a time, and remembers a "no"
/// for a minute, so that a caller probing ids cannot turn each request into a REST call.
actor EngagementLookups {
    private let rest: ZoomRESTClient
    private let logger: Logger
    private var refused: [String: ContinuousClock.Instant] = [:]
    private var inFlight: [String: Task<Set<String>?, Never>] = [:]
    static let refusalMemory = Duration.seconds(60)
    static let maxRemembered = 10_000

    init(rest: ZoomRESTClient, logger: Logger) {
        self.rest = rest
        self.logger = logger
    }

    /// The agents Zoom lists on `engagement` in `account`, or nil when Zoom does not know it there (or cannot be
    /// asked: no token for the account, Zoom unreachable; logged).
    func agents(of engagement: String, account: String) async -> Set<String>? {
        let key = account + "\u{1F}" + engagement
        let now = ContinuousClock.now
        if let at = refused[key], now - at < Self.refusalMemory { return nil }
        if let task = inFlight[key] { return await task.value }
        let rest = self.rest, logger = self.logger
        let task = Task<Set<String>?, Never> {
            do {
                return try await rest.engagementAgents(engagementID: engagement, account: account)
            } catch {
                logger.warning("could not ask Zoom who is on an engagement", metadata: ["engagement": "\(engagement)", "account": "\(account)", "error": "\(error)"])
                return nil
            }
        }
        inFlight[key] = task
        let agents = await task.value
        inFlight[key] = nil
        if agents == nil {
            if refused.count >= Self.maxRemembered { refused = refused.filter { now - $0.value < Self.refusalMemory } }
            if refused.count < Self.maxRemembered { refused[key] = now }
        }
        return agents
    }
}
