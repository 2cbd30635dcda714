import RelayCore

/// `RTMS_STOP_REASON` numbers and names (docs/zoom-rtms.md, "Stop reasons"), so `stream.stopped` carries both.
public enum RTMSStopReasons {
    static let names: [Int: String] = [
        0: "UNDEFINED", 1: "STOP_BC_HOST_TRIGGERED", 2: "STOP_BC_USER_TRIGGERED", 3: "STOP_BC_USER_LEFT",
        4: "STOP_BC_USER_EJECTED", 5: "STOP_BC_APP_DISABLED_BY_HOST", 6: "STOP_BC_MEETING_ENDED",
        7: "STOP_BC_STREAM_CANCELED", 8: "STOP_BC_STREAM_REVOKED", 9: "STOP_BC_ALL_APPS_DISABLED",
        10: "STOP_BC_INTERNAL_EXCEPTION", 11: "STOP_BC_CONNECTION_TIMEOUT", 12: "STOP_BC_MEETING_CONNECTION_INTERRUPTED",
        13: "STOP_BC_SIGNAL_CONNECTION_INTERRUPTED", 14: "STOP_BC_DATA_CONNECTION_INTERRUPTED",
        15: "STOP_BC_SIGNAL_CONNECTION_CLOSED_ABNORMALLY", 16: "STOP_BC_DATA_CONNECTION_CLOSED_ABNORMALLY",
        17: "STOP_BC_EXIT_SIGNAL", 18: "STOP_BC_AUTHENTICATION_FAILURE", 19: "STOP_BC_AWAIT_RECONNECTION_TIMEOUT",
        20: "STOP_BC_RECEIVER_REQUEST_CLOSE", 21: "STOP_BC_CUSTOMER_DISCONNECTED", 22: "STOP_BC_AGENT_DISCONNECTED",
        23: "STOP_BC_ADMIN_DISABLED_APP", 24: "STOP_BC_KEEP_ALIVE_TIMEOUT", 25: "STOP_BC_MANUAL_API_TRIGGERED",
        26: "STOP_BC_STREAMING_NOT_SUPPORTED",
    ]

    /// The reason for a Zoom stop number; unknown numbers keep their number with the name `UNKNOWN`.
    public static func reason(_ code: Int) -> StopReason {
        StopReason(code: code, name: names[code] ?? "UNKNOWN")
    }

    /// The relay closed the stream itself (STREAM_CLOSE_REQ on shutdown): Zoom records reason 20.
    public static let receiverRequestClose = reason(20)
}
