/// `RTMS_STREAM_STATE` (msg 8 and 20, docs/zoom-rtms.md, "States").
public enum RTMSStreamState: Int, Sendable, Codable {
    case inactive = 0, active = 1, interrupted = 2, terminating = 3, terminated = 4, paused = 5, resumed = 6
}

/// `RTMS_SESSION_STATE` (msg 9 and 11, docs/zoom-rtms.md, "States"). STARTED means a new session within the stream.
public enum RTMSSessionState: Int, Sendable, Codable {
    case inactive = 0, initialize = 1, started = 2, paused = 3, resumed = 4, stopped = 5
}
