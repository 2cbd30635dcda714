import RelayCore

/// A verified, decoded Zoom webhook that the relay acts on, handed from the HTTP answer to ingest.
public enum ZoomWebhookEvent: Sendable, Equatable, Codable {
    /// `contact_center.engagement_started`.
    case engagementStarted(engagementID: String, payload: JSONValue, eventTs: Int64)
    /// `contact_center.engagement_ended`.
    case engagementEnded(engagementID: String, payload: JSONValue, eventTs: Int64)
    /// `*.rtms_started`: connect (or, for a live stream, fail over to the new URL).
    case rtmsStarted(RTMSStreamDescriptor, eventTs: Int64)
    /// `*.rtms_interrupted`: Zoom lost our signaling; reconnect fully.
    case rtmsInterrupted(product: RTMSProduct, instanceID: String, streamID: String, eventTs: Int64)
    /// `*.rtms_stopped`, with `stop_reason` when Zoom sent one.
    case rtmsStopped(product: RTMSProduct, instanceID: String, streamID: String, stopReason: Int?, eventTs: Int64)

    /// The webhook's `event_ts` (ms).
    public var eventTs: Int64 {
        switch self {
        case .engagementStarted(_, _, let ts), .engagementEnded(_, _, let ts), .rtmsStarted(_, let ts),
             .rtmsInterrupted(_, _, _, let ts), .rtmsStopped(_, _, _, _, let ts):
            ts
        }
    }
}

/// What a started webhook says about a stream: enough to join it.
public struct RTMSStreamDescriptor: Sendable, Hashable, Codable {
    public var product: RTMSProduct
    /// The engagement id (ZCC) or meeting UUID, byte for byte.
    public var instanceID: String
    public var streamID: String
    /// The signaling URL (`server_urls`, one `wss://` URL).
    public var serverURL: String

    public init(product: RTMSProduct, instanceID: String, streamID: String, serverURL: String) {
        self.product = product
        self.instanceID = instanceID
        self.streamID = streamID
        self.serverURL = serverURL
    }
}
