import RelayCore

/// Where ingest's events go: the registry learns every stream-level event (not audio, which is the hot path),
/// then the hub fans the event out to the sinks. In cluster mode the registry learns them through the shared
/// `EngagementLog`, so every instance's registry sees every instance's events in the same order.
public struct IngestPublisher: Sendable {
    public let hub: EventHub
    public let registry: EngagementRegistry
    public let log: (any EngagementLog)?

    public init(hub: EventHub, registry: EngagementRegistry, log: (any EngagementLog)? = nil) {
        self.hub = hub
        self.registry = registry
        self.log = log
    }

    func publish(_ kind: StreamEvent.Kind, engagementID: String, streamID: String?) async {
        let event = StreamEvent(engagementID: engagementID, streamID: streamID, kind: kind)
        switch kind {
        case .audio, .audioGap, .transcript: break
        default:
            if await log?.append(event) != true { await registry.record(event) }
        }
        await hub.publish(event)
    }

    /// The registry, caught up with the shared log first in cluster mode.
    public func currentRegistry() async -> EngagementRegistry {
        await log?.catchUp(registry)
        return registry
    }
}
