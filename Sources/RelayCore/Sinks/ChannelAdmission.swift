/// Bounds how many parties (channel ids) of one stream a sink keeps state for: ZCC sends one channel per party
/// (agent and caller), so a media server inventing `channel_id`s must not get a file, a row or a meter each.
/// The first `limit` channel ids seen are admitted; frames of any other channel are counted and dropped. Public, so
/// custom sinks can bound their per-party state the same way.
public struct ChannelAdmission: Sendable {
    /// The cap sinks use unless configured otherwise: room for agent, caller, and a few conference parties.
    public static let defaultLimit = 8

    /// How many channel ids of the stream get state.
    public let limit: Int
    /// The channel ids admitted so far, at most `limit`.
    public private(set) var admitted: Set<String> = []
    /// Frames refused because their channel came after the first `limit`.
    public private(set) var refusedFrames = 0

    /// An empty admission for one stream; a negative `limit` admits nothing.
    public init(limit: Int = defaultLimit) {
        self.limit = max(0, limit)
    }

    /// The admission an earlier run of the stream left (a recording resumed after a restart): `admitted` keep
    /// their places, up to `limit`.
    public init(limit: Int = defaultLimit, admitted: [String], refusedFrames: Int) {
        self.init(limit: limit)
        self.admitted = Set(admitted.prefix(self.limit))
        self.refusedFrames = max(0, refusedFrames)
    }

    /// Whether the sink may keep state for `channel`'s frame; false (and counted) once `limit` others hold the places.
    public mutating func admit(_ channel: String) -> Bool {
        if admitted.contains(channel) { return true }
        guard admitted.count < limit else {
            refusedFrames = refusedFrames.addingSaturated(1)
            return false
        }
        admitted.insert(channel)
        return true
    }

    /// True for the first refused frame only, so a sink logs the refusal once per stream.
    public var refusedForTheFirstTime: Bool { refusedFrames == 1 }
}
