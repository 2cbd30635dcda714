import RelayCore
import ZoomWebhooks

/// What cluster mode (README.md, "Running several instances (cluster mode)") gives ingest: webhooks shared by every instance, one ownership lease per
/// stream (only the owner connects to Zoom), the connection details a new owner needs to take a stream over,
/// and the shared engagement log. `RelayCluster` implements it over Redis; without it ingest is a single
/// instance and never touches Redis.
public protocol IngestCluster: Sendable {
    /// Hands every instance's verified webhooks to `deliver`, each once: this instance's `local` ones are
    /// deduplicated across the cluster and shared with the others, and theirs arrive too. Runs until cancelled.
    func shareWebhooks(_ local: AsyncStream<ZoomWebhookEvent>, deliver: @escaping @Sendable (SharedWebhook) -> Void) async
    /// Remembers a stream's connection details (its latest `rtms_started`) for a takeover.
    func remember(_ descriptor: RTMSStreamDescriptor) async
    /// The details remembered for a stream that has not ended; nil otherwise.
    func descriptor(streamID: String) async -> RTMSStreamDescriptor?
    /// Tries to become the stream's owner; the owner keeps renewing the lease until `release`.
    func acquire(streamID: String) async -> LeaseClaim
    /// This instance's session for the stream ended: releases the lease (if still ours) and, when `ended`, forgets
    /// the stream's details so nobody takes it over.
    func release(streamID: String, ended: Bool) async
    /// Forgets a stream Zoom stopped that no session here runs; true when another instance still holds its lease
    /// (that instance's session reports the stop).
    func forget(streamID: String) async -> Bool
    /// The shared engagement log behind every instance's registry.
    var engagementLog: any EngagementLog { get }
}

/// A webhook as cluster mode hands it to ingest.
public struct SharedWebhook: Sendable, Equatable {
    public var event: ZoomWebhookEvent
    /// True when Zoom delivered it to this instance (which then publishes what no session owns, once).
    public var isLocal: Bool

    public init(event: ZoomWebhookEvent, isLocal: Bool) {
        self.event = event
        self.isLocal = isLocal
    }
}

/// The answer to `IngestCluster.acquire`.
public enum LeaseClaim: Sendable, Equatable {
    /// This instance owns the stream now: connect.
    case acquired
    /// Another instance owns it; its lease lapses in `remaining` unless renewed.
    case held(remaining: Duration)
    /// Redis could not be asked: act alone, as a single instance would.
    case unavailable
}

/// The engagement registry's events, in one order for every instance (cluster mode): each instance appends what
/// it ingests and folds the log into its own `EngagementRegistry`, so they all answer the same.
public protocol EngagementLog: Sendable {
    /// Appends a registry event; false when the log is unreachable (the caller then records it locally).
    func append(_ event: StreamEvent) async -> Bool
    /// Applies to `registry` what was appended since the last call.
    func catchUp(_ registry: EngagementRegistry) async
}
