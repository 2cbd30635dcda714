/// How big a sink's queue is and what happens when it is full (docs/writing-a-sink.md, "4. Queues and overflow").
public struct QueuePolicy: Sendable, Hashable {
    /// What to do with a new event when the queue already holds `capacity` events.
    public enum Overflow: String, Sendable, Hashable, CaseIterable, Codable {
        /// The producer waits for room: nothing is lost, but ingest slows to the sink's pace.
        case block
        /// The oldest queued event is discarded (live views: freshness wins).
        case dropOldest = "drop_oldest"
        /// The new event is discarded (storage sinks: never reorder, keep the start).
        case dropNewest = "drop_newest"
    }

    public var capacity: Int
    public var overflow: Overflow

    public init(capacity: Int = 50_000, overflow: Overflow = .dropNewest) {
        self.capacity = capacity
        self.overflow = overflow
    }
}
