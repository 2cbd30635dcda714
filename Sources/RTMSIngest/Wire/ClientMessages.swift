/// CLIENT_READY_ACK (7), sent on signaling after each successful media handshake; media flows after it.
struct ClientReadyAck: Encodable {
    var msgType = RTMSMessageType.clientReadyAck
    var rtmsStreamID: String
    enum CodingKeys: String, CodingKey { case msgType = "msg_type", rtmsStreamID = "rtms_stream_id" }
}

/// EVENT_SUBSCRIPTION (5): `events: [{event_type, subscribe}]`; Zoom sends no answer.
struct EventSubscription: Encodable {
    struct Entry: Encodable {
        var eventType: Int
        var subscribe = true
        enum CodingKeys: String, CodingKey { case eventType = "event_type", subscribe }
    }

    var msgType = RTMSMessageType.eventSubscription
    var events: [Entry]
    enum CodingKeys: String, CodingKey { case msgType = "msg_type", events }
}

/// KEEP_ALIVE_RESP (13), on the socket that asked, echoing its `timestamp` (and `sequence`, as the SDK does).
struct KeepAliveResponse: Encodable {
    var msgType = RTMSMessageType.keepAliveResponse
    var timestamp: Int64
    var sequence: Int64?
    enum CodingKeys: String, CodingKey { case msgType = "msg_type", timestamp, sequence }
}

/// STREAM_CLOSE_REQ (21): the relay ends the stream itself (Zoom answers 22 and stops with reason 20).
struct StreamCloseRequest: Encodable {
    var msgType = RTMSMessageType.streamCloseRequest
    var rtmsStreamID: String
    enum CodingKeys: String, CodingKey { case msgType = "msg_type", rtmsStreamID = "rtms_stream_id" }
}
