/// SIGNALING_HAND_SHAKE_REQ (1), the first frame on the signaling socket (docs/zoom-rtms.md, "Signaling handshake").
///
/// The instance id goes under `engagement_id` for ZCC and `meeting_uuid` otherwise (`RTMSProduct`), byte for
/// byte. `rtms_client_agent` mirrors what the official SDK sends.
struct SignalingHandshakeRequest: Encodable {
    var instanceKey: String
    var instanceID: String
    var streamID: String
    var signature: String
    var sequence: Int
    var clientAgent: String

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: DynamicKey.self)
        try c.encode(RTMSMessageType.signalingHandshakeRequest.rawValue, forKey: "msg_type")
        try c.encode(1, forKey: "protocol_version")
        try c.encode(sequence, forKey: "sequence")
        try c.encode(instanceID, forKey: DynamicKey(instanceKey))
        try c.encode(streamID, forKey: "rtms_stream_id")
        try c.encode(signature, forKey: "signature")
        try c.encode(clientAgent, forKey: "rtms_client_agent")
    }
}

/// A coding key spelled at run time (the handshake's instance-id key depends on the product).
struct DynamicKey: CodingKey, ExpressibleByStringLiteral {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init(stringLiteral value: String) { stringValue = value }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
