/// Which event kinds a sink wants (`Sink.interests`). The hub hands a sink only those, so a sink that never looks
/// at audio (the JSON Lines sink with `audio: none`, Redis without `audio: true`) costs nothing per frame; the
/// events it is not given are neither queued nor counted as dropped.
///
/// Kinds added later are wanted by `.all` and by `allExcept(_:)`, and not by `only(_:)`: pick the first two
/// unless the sink truly needs nothing new.
public struct EventInterests: Sendable, Hashable, CustomStringConvertible {
    /// One bit per `EventType`, by its position in `EventType.allCases`.
    private let mask: UInt64

    private init(mask: UInt64) { self.mask = mask }

    public static let all = EventInterests(mask: ~0)

    /// Everything except these kinds (and so also every kind added later).
    public static func allExcept(_ types: some Sequence<EventType>) -> EventInterests {
        EventInterests(mask: ~types.reduce(0) { $0 | bit($1) })
    }

    /// Everything but audio frames: the common choice for sinks that store or forward the call's course.
    public static let allButAudio = allExcept([.audio])

    /// Only these kinds.
    public static func only(_ types: some Sequence<EventType>) -> EventInterests {
        EventInterests(mask: types.reduce(0) { $0 | bit($1) })
    }

    public func contains(_ type: EventType) -> Bool { mask & Self.bit(type) != 0 }

    public var isAll: Bool { mask == ~0 }

    /// The events of `events` of the wanted kinds, in order: what the hub (and `replay`) hands a sink.
    public func filter(_ events: [StreamEvent]) -> [StreamEvent] {
        isAll ? events : events.filter { contains($0.type) }
    }

    public var description: String {
        isAll ? "all" : EventType.allCases.filter(contains).map(\.rawValue).joined(separator: ", ")
    }

    private static let positions: [EventType: Int] = Dictionary(uniqueKeysWithValues: EventType.allCases.enumerated().map { ($1, $0) })

    private static func bit(_ type: EventType) -> UInt64 { 1 << UInt64(positions[type]!) }
}
