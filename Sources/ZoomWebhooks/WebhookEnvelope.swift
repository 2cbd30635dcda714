import Foundation
import RelayCore

/// Zoom's webhook envelope `{"event", "event_ts", "payload"}` (docs/zoom-rtms.md, "Webhooks and their signature"). The payload stays JSON:
/// its fields differ per event and some senders nest them under `payload.object`.
public struct WebhookEnvelope: Decodable, Sendable {
    public var event: String
    public var eventTs: Int64?
    public var payload: JSONValue?

    enum CodingKeys: String, CodingKey {
        case event
        case eventTs = "event_ts"
        case payload
    }

    /// Decodes the raw body; throws on anything that is not an object with a string `event`.
    public static func decode(_ body: some Collection<UInt8>) throws -> WebhookEnvelope {
        try JSONDecoder().decode(WebhookEnvelope.self, from: Data(body))
    }

    /// A string field of the payload, looked up flat first and then under `payload.object` (a tolerant
    /// reading: Zoom's RTMS payloads are flat, some secondary material shows them nested).
    public func field(_ key: String) -> String? {
        if let value = payload?[key]?.stringValue, !value.isEmpty { return value }
        if let value = payload?["object"]?[key]?.stringValue, !value.isEmpty { return value }
        return nil
    }

    /// An integer field of the payload (flat, then nested); a numeric string also counts.
    public func intField(_ key: String) -> Int? {
        for value in [payload?[key], payload?["object"]?[key]] {
            guard let value else { continue }
            if let int = value.intValue { return int }
            if let text = value.stringValue, let int = Int(text) { return int }
        }
        return nil
    }

    /// The event as something ingest acts on, or nil for events the relay only acknowledges.
    public func typedEvent() -> ZoomWebhookEvent? {
        let ts = eventTs ?? 0
        switch event {
        case "contact_center.engagement_started":
            guard let id = field("engagement_id") else { return nil }
            return .engagementStarted(engagementID: id, payload: payload ?? .null, eventTs: ts)
        case "contact_center.engagement_ended":
            guard let id = field("engagement_id") else { return nil }
            return .engagementEnded(engagementID: id, payload: payload ?? .null, eventTs: ts)
        default:
            break
        }
        guard let (product, kind) = Self.rtmsEvents[event], let instanceID = instanceID(for: product),
              let streamID = field("rtms_stream_id") else { return nil }
        switch kind {
        case .started:
            guard let url = field("server_urls") else { return nil }
            return .rtmsStarted(RTMSStreamDescriptor(product: product, instanceID: instanceID, streamID: streamID, serverURL: url), eventTs: ts)
        case .interrupted:
            return .rtmsInterrupted(product: product, instanceID: instanceID, streamID: streamID, eventTs: ts)
        case .stopped:
            return .rtmsStopped(product: product, instanceID: instanceID, streamID: streamID, stopReason: intField("stop_reason"), eventTs: ts)
        }
    }

    /// The key Zoom's retries repeat unchanged: event name, stream (or engagement / instance) and `event_ts`.
    public var dedupeKey: String {
        let subject = field("rtms_stream_id") ?? field("engagement_id") ?? field("meeting_uuid") ?? field("session_id") ?? ""
        return "\(event)|\(subject)|\(eventTs ?? 0)"
    }

    private func instanceID(for product: RTMSProduct) -> String? {
        switch product {
        case .contactCenter: field("engagement_id")
        case .meeting: field("meeting_uuid")
        case .webinar: field("meeting_uuid") ?? field("webinar_uuid")
        case .videoSDK: field("session_id")
        }
    }

    private enum RTMSKind { case started, interrupted, stopped }

    private static let rtmsEvents: [String: (RTMSProduct, RTMSKind)] = [
        "contact_center.voice_rtms_started": (.contactCenter, .started),
        "contact_center.voice_rtms_interrupted": (.contactCenter, .interrupted),
        "contact_center.voice_rtms_stopped": (.contactCenter, .stopped),
        "meeting.rtms_started": (.meeting, .started),
        "meeting.rtms_interrupted": (.meeting, .interrupted),
        "meeting.rtms_stopped": (.meeting, .stopped),
        "webinar.rtms_started": (.webinar, .started),
        "webinar.rtms_interrupted": (.webinar, .interrupted),
        "webinar.rtms_stopped": (.webinar, .stopped),
        "session.rtms_started": (.videoSDK, .started),
        "session.rtms_interrupted": (.videoSDK, .interrupted),
        "session.rtms_stopped": (.videoSDK, .stopped),
    ]
}
