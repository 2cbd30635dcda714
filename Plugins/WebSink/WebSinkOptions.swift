import RelayCore

/// The options of a `type: web` sink: the agent page's live feed (`GET /api/events`).
///
/// ```yaml
/// sinks:
///   agent_page:
///     type: web
///     status_every_chunks: 50     # "Received N audio chunks" every this many chunks per channel
///     replay_buffer: 1000         # messages kept for Last-Event-ID resume and for a page opened mid-call
///     heartbeat_seconds: 15       # ": heartbeat" comment on every open stream
///     level_interval_ms: 250      # per-channel chunk counters and audio levels, at most this often
///     client_buffer: 500          # messages a browser may fall behind before it is dropped
/// ```
public struct WebSinkOptions: SinkOptions, Encodable {
    public var statusEveryChunks = 50
    public var replayBuffer = 1000
    public var heartbeatSeconds = 15.0
    public var levelIntervalMilliseconds = 250
    public var clientBuffer = 500

    enum CodingKeys: String, CodingKey {
        case statusEveryChunks = "status_every_chunks"
        case replayBuffer = "replay_buffer"
        case heartbeatSeconds = "heartbeat_seconds"
        case levelIntervalMilliseconds = "level_interval_ms"
        case clientBuffer = "client_buffer"
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        statusEveryChunks = try c.decodeIfPresent(Int.self, forKey: .statusEveryChunks) ?? statusEveryChunks
        replayBuffer = try c.decodeIfPresent(Int.self, forKey: .replayBuffer) ?? replayBuffer
        heartbeatSeconds = try c.decodeIfPresent(Double.self, forKey: .heartbeatSeconds) ?? heartbeatSeconds
        levelIntervalMilliseconds = try c.decodeIfPresent(Int.self, forKey: .levelIntervalMilliseconds) ?? levelIntervalMilliseconds
        clientBuffer = try c.decodeIfPresent(Int.self, forKey: .clientBuffer) ?? clientBuffer
        try validate()
    }

    func validate() throws {
        guard statusEveryChunks >= 1 else { throw OptionError(key: "status_every_chunks", "must be at least 1, not \(statusEveryChunks)") }
        guard replayBuffer >= 1 else { throw OptionError(key: "replay_buffer", "must be at least 1, not \(replayBuffer)") }
        guard heartbeatSeconds > 0 else { throw OptionError(key: "heartbeat_seconds", "must be positive, not \(heartbeatSeconds)") }
        guard levelIntervalMilliseconds >= 50 else {
            throw OptionError(key: "level_interval_ms", "must be at least 50 (browsers need no more than a few updates a second), not \(levelIntervalMilliseconds)")
        }
        guard clientBuffer >= 10 else { throw OptionError(key: "client_buffer", "must be at least 10, not \(clientBuffer)") }
    }

    public static let documentation = [
        OptionDocumentation("status_every_chunks", "integer", default: "50", "emit \"Received N audio chunks\" every this many chunks per channel"),
        OptionDocumentation("replay_buffer", "integer", default: "1000", "messages kept for Last-Event-ID resume and for pages opened mid-call"),
        OptionDocumentation("heartbeat_seconds", "number", default: "15", "seconds between heartbeat comments on every open stream"),
        OptionDocumentation("level_interval_ms", "integer", default: "250", "milliseconds between per-channel counter and level updates"),
        OptionDocumentation("client_buffer", "integer", default: "500", "messages a browser may fall behind before it is disconnected"),
    ]
}
