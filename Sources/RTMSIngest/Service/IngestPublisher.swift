import RelayCore

/// Where ingest's events go, every one of them: the registry learns every stream-level event (not media — audio,
/// gaps, transcripts — which is the hot path), then the hub fans the events out to the sinks. In cluster mode the registry learns them through the shared
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
        await publish([kind], engagementID: engagementID, streamID: streamID)
    }

    /// Publishes `kinds` in order, as one batch for the hub.
    func publish(_ kinds: [StreamEvent.Kind], engagementID: String, streamID: String?) async {
        let now = EventClock.nowMillis()
        let events = kinds.map { StreamEvent(timeMillis: now, engagementID: engagementID, streamID: streamID, kind: $0) }
        for event in events {
            switch event.kind {
            case .audio, .audioGap, .transcript: continue
            default:
                if await log?.append(event) != true { await registry.record(event) }
            }
        }
        await hub.publish(contentsOf: events)
    }

    /// The registry, caught up with the shared log first in cluster mode.
    public func currentRegistry() async -> EngagementRegistry {
        await log?.catchUp(registry)
        return registry
    }
}
