import RelayCore
import ZoomAPI
import ZoomWebhooks

/// What goes over the webhook channel: a verified webhook and the instance Zoom delivered it to.
struct SharedWebhookMessage: Codable, Sendable {
    var origin: String
    var event: ZoomWebhookEvent
}

/// What goes over the event channel: a batch of events one instance ingested (audio with its PCM in base64).
struct RelayedEventsMessage: Codable, Sendable {
    var origin: String
    var events: [StreamEvent]
}

extension ZoomWebhookEvent {
    /// What Zoom's retries and duplicate deliveries of one webhook have in common: the event, its subject and
    /// `event_ts`.
    var clusterDedupeKey: String {
        switch self {
        case .engagementStarted(let id, _, let ts): "engagement_started|\(id)|\(ts)"
        case .engagementEnded(let id, _, let ts): "engagement_ended|\(id)|\(ts)"
        case .rtmsStarted(let descriptor, let ts): "rtms_started|\(descriptor.streamID)|\(ts)"
        case .rtmsInterrupted(_, _, let streamID, let ts): "rtms_interrupted|\(streamID)|\(ts)"
        case .rtmsStopped(_, _, let streamID, _, let ts): "rtms_stopped|\(streamID)|\(ts)"
        }
    }
}
