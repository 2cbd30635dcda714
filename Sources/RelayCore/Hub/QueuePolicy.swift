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
        /// The new event goes to an on-disk log (`SpillLog`) that the sink drains in order, also after a restart;
        /// past `spillMaxBytes`, or when the disk refuses, the new event is discarded as with `dropNewest`.
        case spill
    }

    public var capacity: Int
    public var overflow: Overflow
    /// The spill log's file, for `spill`; nil: `data/spill/<sink id>.sqlite`.
    public var spillPath: String?
    /// The most event bytes the spill log holds, for `spill`.
    public var spillMaxBytes: Int64

    /// How long a sink woken by a first event waits for more before it takes its batch (ended early by a full
    /// batch or by shutdown); zero: it takes what is there at once. Each wake-up costs the publishing thread
    /// and the sink's thread a context switch, so waking per published read made the queue machinery dearer than
    /// most sinks' own work (BENCHMARKS.md).
    public var batchWindow: Duration

    public static let defaultSpillMaxBytes: Int64 = 1 << 30
    public static let defaultBatchWindow: Duration = .milliseconds(5)
    /// The longest `batch_window_ms` the config accepts: a second, well inside what a live view can wait.
    public static let maximumBatchWindowMillis = 1000

    public init(capacity: Int = 50_000, overflow: Overflow = .dropNewest, spillPath: String? = nil, spillMaxBytes: Int64 = Self.defaultSpillMaxBytes,
                batchWindow: Duration = Self.defaultBatchWindow) {
        self.capacity = capacity
        self.overflow = overflow
        self.spillPath = spillPath
        self.spillMaxBytes = spillMaxBytes
        self.batchWindow = batchWindow
    }

    /// Where sink `id` spills under this policy.
    public func spillFile(forSink id: String) -> String {
        spillPath ?? "data/spill/\(id).sqlite"
    }
}
