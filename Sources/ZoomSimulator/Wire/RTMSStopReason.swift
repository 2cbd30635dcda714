/// `RTMS_STOP_REASON` (docs/zoom-rtms.md, "Stop reasons"): sent in 8.reason, 9.stop_reason and the stopped webhook.
public enum RTMSStopReason: Int, Sendable, Codable {
    case undefined = 0
    case meetingEnded = 6
    case internalException = 10
    case signalingConnectionInterrupted = 13
    case dataConnectionInterrupted = 14
    case signalingClosedByApp = 15
    case dataClosedByApp = 16
    case awaitedReconnectionTimedOut = 19
    case receiverRequestedClose = 20
    case customerDisconnected = 21
    case agentDisconnected = 22
    case keepAliveTimeout = 24
    case manualAPIStop = 25
}
