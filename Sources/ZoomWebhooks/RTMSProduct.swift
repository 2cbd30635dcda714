/// Which Zoom product a stream belongs to. It decides the instance-id key of the handshakes and how event
/// numbers are read (ZCC reuses numbers 8+ with other meanings, docs/zoom-rtms.md, "ZCC voice events").
public enum RTMSProduct: String, Sendable, Hashable, CaseIterable, Codable {
    case contactCenter = "contact_center"
    case meeting
    case webinar
    case videoSDK = "session"

    /// The JSON key that carries the instance id in handshakes 1 and 3. ZCC sends `engagement_id` like the
    /// official quickstart; the others `meeting_uuid` (docs/zoom-rtms.md, "Webhooks and their signature").
    public var handshakeInstanceKey: String {
        self == .contactCenter ? "engagement_id" : "meeting_uuid"
    }
}
