/// RTMS `msg_type` numbers (docs/zoom-rtms.md, "Message types"). Sent as integers on the wire, never as names.
public enum RTMSMessageType: Int, Sendable, Codable {
    case signalingHandshakeRequest = 1
    case signalingHandshakeResponse = 2
    case dataHandshakeRequest = 3
    case dataHandshakeResponse = 4
    case eventSubscription = 5
    case eventUpdate = 6
    case clientReadyAck = 7
    case streamStateUpdate = 8
    case sessionStateUpdate = 9
    case sessionStateRequest = 10
    case sessionStateResponse = 11
    case keepAliveRequest = 12
    case keepAliveResponse = 13
    case mediaDataAudio = 14
    case mediaDataVideo = 15
    case mediaDataShare = 16
    case mediaDataTranscript = 17
    case mediaDataChat = 18
    case streamStateRequest = 19
    case streamStateResponse = 20
    case streamCloseRequest = 21
    case streamCloseResponse = 22
    case videoSubscriptionRequest = 28
    case videoSubscriptionResponse = 29
}
