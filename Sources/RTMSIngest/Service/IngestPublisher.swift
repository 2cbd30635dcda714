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
        let events = Self.events(kinds, engagementID: engagementID, streamID: streamID)
        for event in events where !event.type.isMedia {
            if await log?.append(event) != true { await registry.record(event) }
        }
        await hub.publish(contentsOf: events)
    }

    /// Publishes media (audio, gaps, transcripts: what the registry does not follow) without suspending, from the
    /// connection's event loop; what full `block` queues could not take yet is returned (`EventHub.offer`).
    func offerMedia(_ kinds: [StreamEvent.Kind], engagementID: String, streamID: String?) -> PublishBacklog? {
        let events = Self.events(kinds, engagementID: engagementID, streamID: streamID)
        assert(events.allSatisfy(\.type.isMedia), "only media bypasses the registry")
        return hub.offer(contentsOf: events)
    }

    private static func events(_ kinds: [StreamEvent.Kind], engagementID: String, streamID: String?) -> [StreamEvent] {
        let now = EventClock.nowMillis()
        return kinds.map { StreamEvent(timeMillis: now, engagementID: engagementID, streamID: streamID, kind: $0) }
    }

    /// The registry, caught up with the shared log first in cluster mode.
    public func currentRegistry() async -> EngagementRegistry {
        await log?.catchUp(registry)
        return registry
    }
}
