/// Where a simulated stream is in its life. Pausing is orthogonal (a flag), as in Zoom's session states.
public enum StreamPhase: Sendable, Equatable {
    /// `voice_rtms_started` was sent; no signaling connection yet (or after a failover).
    case awaitingClient
    /// Signaling handshake done; waiting for media handshakes and CLIENT_READY_ACK.
    case connected
    /// Media flows.
    case streaming
    /// Media connection lost; waiting for a media reconnect within the window.
    case mediaInterrupted
    /// Signaling lost; waiting for a full reconnect within the window.
    case signalingInterrupted
    /// Ended for good.
    case stopped(RTMSStopReason)

    var isLive: Bool {
        if case .stopped = self { return false }
        return true
    }
}
