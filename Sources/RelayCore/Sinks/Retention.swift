/// `retention: {days: N}` of a storage sink (WAV, SQLite): what is older than N days is deleted, once at start-up
/// and then once a day, and the sink logs what it deleted. Off (nothing is ever deleted) unless `days` is set.
public struct Retention: Sendable, Hashable, Codable {
    public var days: Int?

    public init(days: Int? = nil) {
        self.days = days
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        days = try c.decodeIfPresent(Int.self, forKey: .days)
        if let days, !(1...36_500).contains(days) {
            throw OptionError(key: "retention.days", "must be between 1 and 36500, not \(days)")
        }
    }

    /// How often a sink sweeps.
    public static let interval = Duration.seconds(86_400)

    /// What every storage sink's `retention` option says of itself (`SinkOption`'s help).
    public static let help = "delete recordings (or rows) of calls older than {days: N} days, at start-up and once a day; logs what it deleted"

    /// Everything last touched before this (milliseconds since the epoch) is due for deletion; nil when off.
    public func cutoff(now: Int64 = EventClock.nowMillis()) -> Int64? {
        guard let days else { return nil }
        return now.subtractingSaturated(Int64(days).multipliedSaturated(by: 86_400_000))
    }

    /// When the next sweep is due: a sink calls `due()` from its tick; true at the first tick, then once per
    /// `interval`.
    public struct Schedule: Sendable {
        private var next: ContinuousClock.Instant?
        public init() {}

        public mutating func due(now: ContinuousClock.Instant = .now) -> Bool {
            if let next, now < next { return false }
            next = now + Retention.interval
            return true
        }
    }
}
