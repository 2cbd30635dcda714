import Foundation

/// The webhook events the simulator sends, by their Zoom names.
public enum WebhookEventName: String, Sendable {
    case urlValidation = "endpoint.url_validation"
    case engagementStarted = "contact_center.engagement_started"
    case engagementEnded = "contact_center.engagement_ended"
    case voiceRTMSStarted = "contact_center.voice_rtms_started"
    case voiceRTMSStopped = "contact_center.voice_rtms_stopped"
    case voiceRTMSInterrupted = "contact_center.voice_rtms_interrupted"
}

/// The webhook envelope `{"event", "event_ts", "payload"}`. RTMS payloads are flat (docs/zoom-rtms.md, "Webhooks and their signature").
struct WebhookEnvelope<Payload: Encodable>: Encodable {
    var event: String
    var eventTs: Int64
    var payload: Payload
    enum CodingKeys: String, CodingKey { case event, eventTs = "event_ts", payload }
}

/// Flat payload of `contact_center.voice_rtms_*`.
struct VoiceRTMSPayload: Encodable {
    var engagementID: String
    var rtmsStreamID: String
    var serverURLs: String?
    var stopReason: Int?
    enum CodingKeys: String, CodingKey {
        case engagementID = "engagement_id", rtmsStreamID = "rtms_stream_id", serverURLs = "server_urls", stopReason = "stop_reason"
    }
}

/// Payload of `contact_center.engagement_*`: the usual Zoom `{account_id, object}` shape (the original app reads
/// `payload.object.engagement_id`), naming the agent in `object.agents` like the engagement REST resource does.
struct EngagementPayload: Encodable {
    var accountID: String
    var object: Object
    struct Object: Encodable {
        var engagementID: String
        var channel: String
        var direction: String
        var startTime: String?
        var endTime: String?
        var agents: [Agent]?
        enum CodingKeys: String, CodingKey {
            case engagementID = "engagement_id", channel, direction, startTime = "start_time", endTime = "end_time", agents
        }
    }
    struct Agent: Encodable {
        var userID: String
        var displayName: String
        enum CodingKeys: String, CodingKey { case userID = "user_id", displayName = "display_name" }
    }
    enum CodingKeys: String, CodingKey { case accountID = "account_id", object }
}

/// Payload of `endpoint.url_validation`.
struct URLValidationPayload: Encodable {
    var plainToken: String
}

/// One signed delivery, ready to POST; the raw body is fixed here so the signature covers exactly these bytes.
struct WebhookDelivery: Sendable {
    var event: WebhookEventName
    var body: [UInt8]
    /// Which ordered lane carries it: deliveries of one engagement never overtake each other.
    var lane: String

    static func make<P: Encodable>(_ event: WebhookEventName, payload: P, lane: String) -> WebhookDelivery {
        let envelope = WebhookEnvelope(event: event.rawValue, eventTs: epochMilliseconds(), payload: payload)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(envelope)).map { Array($0) } ?? []
        return WebhookDelivery(event: event, body: body, lane: lane)
    }
}
