import RelayCore

/// Who is on an engagement, as the agent page's call header shows it: the direction and agents the engagement
/// webhook names, and the caller, queue and each party's role from the ZCC participant events
/// (docs/zoom-rtms.md, "ZCC voice events"; docs/recordings.md, "Where each fact comes from", reads the same fields
/// from the archive). Every text is capped, and a payload without a field leaves what was known.
public struct CallDetails: Sendable, Codable, Equatable {
    public struct Party: Sendable, Codable, Equatable {
        public var userID: String?
        public var name: String?
        public var phoneNumber: String?

        enum CodingKeys: String, CodingKey {
            case userID = "userId", name, phoneNumber
        }
    }

    public var direction: String?
    public var queue: String?
    public var agents: [Party] = []
    public var caller: Party?
    /// Channel id → the party's role, from each participant event's `channel_id` and `participant_mode`.
    public var roles: [String: CallRole] = [:]

    public init() {}

    /// Channels named at most: participant events come from the wire, so invented channel ids must not grow this.
    static let maximumChannels = ChannelAdmission.defaultLimit

    /// What an engagement webhook's `payload.object` says: `direction` and `agents[]` (`user_id`, `display_name`).
    mutating func learn(webhookPayload payload: JSONValue) {
        let object = payload["object"] ?? .null
        direction = Self.text(object["direction"]) ?? direction
        if case .array(let list) = object["agents"] ?? .null {
            let named = list.prefix(64).compactMap { agent -> Party? in
                let party = Party(userID: Self.text(agent["user_id"]), name: Self.text(agent["display_name"]))
                return party.userID == nil && party.name == nil ? nil : party
            }
            if !named.isEmpty { agents = named }
        }
    }

    /// What a participant event's `participant_info` says: the caller (a customer `participant_mode`), the queue,
    /// and the role of its channel.
    mutating func learn(participant info: JSONValue) {
        queue = Self.text(info["queue_name"]) ?? queue
        let role = CallRole(participantMode: Self.text(info["participant_mode"]))
        if role == .customer {
            caller = Party(userID: Self.text(info["user_id"]) ?? caller?.userID, name: Self.text(info["display_name"]) ?? caller?.name,
                           phoneNumber: Self.text(info["phone_number"]) ?? caller?.phoneNumber)
        }
        if let role, let channel = Self.text(info["channel_id"]), roles[channel] != nil || roles.count < Self.maximumChannels {
            roles[channel] = role
        }
    }

    private static func text(_ value: JSONValue?) -> String? {
        guard let text = value?.stringValue, !text.isEmpty else { return nil }
        return String(text.prefix(256))
    }
}
