/// A sink's counters and state at one moment, for `/health` and `/metrics`.
public struct SinkSnapshot: Sendable, Hashable, Encodable {
    /// Where the sink's loop is.
    public enum State: String, Sendable, Hashable, Encodable {
        case starting, running, restarting, finished
    }

    public var id: String
    public var type: String
    public var state: State
    /// Events the sink consumed without error.
    public var delivered: UInt64
    /// Events discarded by the queue's overflow policy.
    public var dropped: UInt64
    /// Events in batches the sink threw on.
    public var failed: UInt64
    /// Times the sink threw (start, consume, tick or finish).
    public var errors: UInt64
    /// Events waiting in the queue.
    public var depth: Int
    public var capacity: Int
    public var overflow: QueuePolicy.Overflow
    public var lastError: String?
    /// What the sink itself reported (`nil` when fine).
    public var degradedReason: String?
    /// From Zoom's frame timestamp to this sink having consumed the frame (for `/metrics` and the benchmark).
    public var audioLatency: LatencyHistogram.Snapshot
    /// Counts the sink reported itself (`SinkContext.reportCount`); omitted from `/health` when there are none.
    public var counts: [String: UInt64]? = nil
    /// Events in the on-disk spill log, and their bytes (`overflow: spill` only).
    public var spilled: Int? = nil
    public var spilledBytes: Int64? = nil

    /// True when the sink is restarting or reports trouble.
    public var isDegraded: Bool { state == .restarting || degradedReason != nil }

    enum CodingKeys: String, CodingKey {
        case type, state, delivered, dropped, failed, errors, depth, capacity, overflow
        case lastError = "last_error"
        case degradedReason = "degraded_reason"
        case counts, spilled
        case spilledBytes = "spilled_bytes"
    }
}
