/// `access:` — who besides the agent on a call may see it (docs/security.md, "Access model").
public struct AccessSettings: Sendable, Decodable {
    /// Zoom user ids of supervisors: each sees every engagement of their own account.
    public var supervisors: [String] = []
    /// Whether supervisors may also start, stop, pause and resume RTMS (read-only when false).
    public var supervisorsControl = false
    /// Zoom user ids of QA reviewers: each may find, play and read every recorded call of their own account.
    public var qa: [String] = []
    /// How long a session token from the Home URL stays valid, in minutes (at most an hour).
    public var sessionMinutes = 60

    public init() {}

    enum CodingKeys: String, CodingKey {
        case supervisors, qa
        case supervisorsControl = "supervisors_control"
        case sessionMinutes = "session_minutes"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        supervisors = try c.decodeIfPresent([String].self, forKey: .supervisors) ?? supervisors
        supervisorsControl = try c.decodeIfPresent(Bool.self, forKey: .supervisorsControl) ?? supervisorsControl
        qa = try c.decodeIfPresent([String].self, forKey: .qa) ?? qa
        sessionMinutes = try c.decodeIfPresent(Int.self, forKey: .sessionMinutes) ?? sessionMinutes
        guard (1...60).contains(sessionMinutes) else {
            throw OptionError(key: "session_minutes", "must be between 1 and 60, not \(sessionMinutes)")
        }
        for (key, ids) in [("supervisors", supervisors), ("qa", qa)] {
            if let bad = ids.first(where: { $0.isEmpty || $0.utf8.count > 256 }) {
                throw OptionError(key: key, "'\(bad)' is not a Zoom user id")
            }
        }
    }
}
