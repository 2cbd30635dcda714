import RelayCore

/// The options of a `type: web` sink, the agent page's live feed (`GET /api/events`), each declared once in
/// `Declared` (`rtms-relay check-config` lists them; `config.yaml.example` shows them in use).
public struct WebSinkOptions: SinkOptions, Encodable {
    public enum CodingKeys: String, CodingKey, Sendable {
        case statusEveryChunks = "status_every_chunks"
        case replayBuffer = "replay_buffer"
        case heartbeatSeconds = "heartbeat_seconds"
        case levelIntervalMilliseconds = "level_interval_ms"
        case clientBuffer = "client_buffer"
    }

    public enum Declared {
        public static let statusEveryChunks = SinkOption(CodingKeys.statusEveryChunks, "integer", default: 50,
            "emit \"Received N audio chunks\" every this many chunks per channel")
        public static let replayBuffer = SinkOption(CodingKeys.replayBuffer, "integer", default: 1000,
            "messages kept for Last-Event-ID resume and for pages opened mid-call")
        public static let heartbeatSeconds = SinkOption(CodingKeys.heartbeatSeconds, "number", default: 15.0,
            "seconds between heartbeat comments on every open stream")
        public static let levelIntervalMilliseconds = SinkOption(CodingKeys.levelIntervalMilliseconds, "integer", default: 250,
            "milliseconds between per-channel counter and level updates")
        public static let clientBuffer = SinkOption(CodingKeys.clientBuffer, "integer", default: 500,
            "messages a browser may fall behind before it is disconnected")
    }

    public static let documentation = [
        Declared.statusEveryChunks.documentation, Declared.replayBuffer.documentation, Declared.heartbeatSeconds.documentation,
        Declared.levelIntervalMilliseconds.documentation, Declared.clientBuffer.documentation,
    ]

    public var statusEveryChunks = Declared.statusEveryChunks.default
    public var replayBuffer = Declared.replayBuffer.default
    public var heartbeatSeconds = Declared.heartbeatSeconds.default
    public var levelIntervalMilliseconds = Declared.levelIntervalMilliseconds.default
    public var clientBuffer = Declared.clientBuffer.default

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        statusEveryChunks = try c.decode(Declared.statusEveryChunks)
        replayBuffer = try c.decode(Declared.replayBuffer)
        heartbeatSeconds = try c.decode(Declared.heartbeatSeconds)
        levelIntervalMilliseconds = try c.decode(Declared.levelIntervalMilliseconds)
        clientBuffer = try c.decode(Declared.clientBuffer)
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
}
