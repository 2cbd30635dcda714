import NIOConcurrencyHelpers
import Logging

/// What the hub gives a sink when it is built: its id, a logger labelled with it, and a way to report
/// its health to `/health`.
public struct SinkContext: Sendable {
    /// The sink's id in the config (`qa_recordings`).
    public let id: String
    /// A logger with `sink` metadata set.
    public let logger: Logger
    let healthBox: SinkHealthBox

    public init(id: String, logger: Logger) {
        self.id = id
        var logger = logger
        logger[metadataKey: "sink"] = "\(id)"
        self.logger = logger
        self.healthBox = SinkHealthBox()
    }

    /// Tells `/health` the sink is degraded (with a reason people can act on) or fine again.
    public func reportHealth(_ health: SinkHealth) {
        healthBox.set(health)
    }

    /// The health the sink last reported.
    public var health: SinkHealth { healthBox.get() }

    /// Sets a named count the sink wants on `/health` (e.g. the cluster's `rejected_messages`).
    public func reportCount(_ name: String, _ value: UInt64) {
        healthBox.setCount(name, value)
    }

    /// The counts reported with `reportCount`.
    public var counts: [String: UInt64] { healthBox.counts() }
}

/// A sink's own view of its health.
public enum SinkHealth: Sendable, Hashable {
    case ok
    case degraded(String)
}

final class SinkHealthBox: Sendable {
    private let value = NIOLockedValueBox<SinkHealth>(.ok)
    func set(_ health: SinkHealth) { value.withLockedValue { $0 = health } }
    func get() -> SinkHealth { value.withLockedValue { $0 } }
    private let namedCounts = NIOLockedValueBox<[String: UInt64]>([:])
    func setCount(_ name: String, _ count: UInt64) { namedCounts.withLockedValue { $0[name] = count } }
    func counts() -> [String: UInt64] { namedCounts.withLockedValue { $0 } }
}
