/// A destination for stream events: the web page, a WAV writer, an archive, a message bus, or one a user
/// writes.
///
/// The `EventHub` owns the loop: it calls `start()` once, then `consume(_:)` with batches of events in
/// publish order (never concurrently), `tick()` every `tickInterval` when the sink asks for it, and
/// `finish()` once on shutdown after the sink's queue is drained. A sink that throws is logged and
/// restarted with backoff (`start()` again); the other sinks are not affected. Sinks report lasting
/// trouble they handle themselves (a full disk, a dead Redis) through `SinkContext.reportHealth(_:)`.
public protocol Sink: Sendable {
    /// Opens files, connections … Called before the first batch, and again after a failure.
    func start() async throws
    /// Handles a batch of events, oldest first. Switch on `event.kind` with a `default:` branch, so new event
    /// kinds never break a sink.
    func consume(_ events: [StreamEvent]) async throws
    /// How often the hub calls `tick()` (e.g. to patch WAV headers once a second), or nil for never.
    var tickInterval: Duration? { get }
    /// Periodic work, serialised with `consume(_:)`.
    func tick() async throws
    /// Flushes and closes everything; called once, after the queue is drained on shutdown.
    func finish() async throws
    /// The event kinds the hub hands this sink (default: all). Read once, when the hub is built.
    var interests: EventInterests { get }
}

/// A live view (the agent page's feed): in cluster mode it also gets the events of streams other instances
/// ingest. Sinks that store or forward events are not live views, so each event is stored once, by the instance
/// connected to the stream; their authors never meet cluster mode.
public protocol LiveViewSink: Sink {}

extension Sink {
    public func start() async throws {}
    public var tickInterval: Duration? { nil }
    public func tick() async throws {}
    public func finish() async throws {}
    public var interests: EventInterests { .all }
}

/// A sink that can tell which events it already holds, so that `rtms-relay replay` does not write them a second
/// time (the JSON Lines sink reads its files). Events are identified by engagement and `seq`: an archived event
/// keeps the `seq` it was published with.
public protocol EventHoldingSink: Sink {
    /// The `EventKey`s of what the sink already wrote, among the events of `engagements` (all when nil).
    func heldEvents(of engagements: Set<String>?) async throws -> Set<EventKey>
}

/// Which event this is, across a replay: its engagement and the `seq` the hub stamped.
public struct EventKey: Sendable, Hashable {
    public var engagementID: String
    public var seq: UInt64

    public init(engagementID: String, seq: UInt64) {
        self.engagementID = engagementID
        self.seq = seq
    }

    public init(_ event: StreamEvent) {
        self.init(engagementID: event.engagementID, seq: event.seq)
    }
}
