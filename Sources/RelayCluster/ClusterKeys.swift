/// Every Redis key and channel cluster mode uses, under `cluster.key_prefix` (default `rtms-relay:`).
public struct ClusterKeys: Sendable, Hashable {
    public let prefix: String

    public init(prefix: String) {
        self.prefix = prefix
    }

    /// A stream's ownership lease: `SET NX PX`, holding the owner's random token.
    public func lease(_ streamID: String) -> String { prefix + "lease:" + streamID }
    /// A live stream's latest `rtms_started` (JSON), what a new owner connects with.
    public func stream(_ streamID: String) -> String { prefix + "stream:" + streamID }
    /// A webhook delivery seen by some instance (cluster-wide dedupe of Zoom's retries and duplicates).
    public func webhook(_ dedupeKey: String) -> String { prefix + "webhook:" + dedupeKey }
    /// Before an OAuth login's `state`: its PKCE verifier, until the callback (on any instance) takes it.
    public var loginPrefix: String { prefix + "login:" }
    /// The engagement registry's events (a Redis stream every instance folds into its registry).
    public var engagements: String { prefix + "engagements" }
    /// Pub/sub: verified webhooks, shared with every instance.
    public var webhooksChannel: String { prefix + "cluster:webhooks" }
    /// Pub/sub: the events each instance ingests, for the other instances' live views.
    public var eventsChannel: String { prefix + "cluster:events" }
    /// Pub/sub: one instance's own channel (its heartbeat keeps its subscription's reads from timing out).
    public func instanceChannel(_ instanceID: String) -> String { prefix + "cluster:instance:" + instanceID }
}
