import RelayCore

/// Where ingest's events go: the registry learns every stream-level event (not audio, which is the hot path),
/// then the hub fans the event out to the sinks.
public struct IngestPublisher: Sendable {
    public let hub: EventHub
    public let registry: EngagementRegistry

    public init(hub: EventHub, registry: EngagementRegistry) {
        self.hub = hub
        self.registry = registry
    }

    func publish(_ kind: StreamEvent.Kind, engagementID: String, streamID: String?) async {
        let event = StreamEvent(engagementID: engagementID, streamID: streamID, kind: kind)
        switch kind {
        case .audio, .transcript: break
        default: await registry.record(event)
        }
        await hub.publish(event)
    }
}
