import RelayCore

/// The options of a `type: redis` sink, each declared once in `Declared` (`rtms-relay check-config` lists
/// them; `config.yaml.example` shows them in use).
public struct RedisSinkOptions: SinkOptions, Encodable {
    public enum CodingKeys: String, CodingKey, Sendable {
        case url, audio
        case keyPrefix = "key_prefix"
        case maxLength = "max_len"
        case healthIntervalSeconds = "health_interval_seconds"
    }

    public enum Declared {
        public static let url = SinkOption(CodingKeys.url, "secret string", default: Secret("redis://127.0.0.1:6379"), shown: "redis://127.0.0.1:6379",
            "redis://[user:password@]host[:port][/db]")
        public static let keyPrefix = SinkOption(CodingKeys.keyPrefix, "string", default: "rtms:",
            "prefix of the channel ({prefix}events) and streams ({prefix}stream:{engagement})")
        public static let audio = SinkOption(CodingKeys.audio, "bool", default: false,
            "also add audio frames to the streams (PCM base64 in the event JSON); never published")
        public static let maxLength = SinkOption(CodingKeys.maxLength, "integer", default: 100_000,
            "approximate length cap of each engagement stream (XADD MAXLEN ~)")
        /// While nothing goes to Redis (only audio flowing, with `audio: false`; no call at all), the sink PINGs
        /// it this often, so `/health` says within this long that Redis died.
        public static let healthIntervalSeconds = SinkOption(CodingKeys.healthIntervalSeconds, "number", default: 2.0,
            "PING Redis when nothing was sent for this long, so /health reports a dead Redis within it even while only audio flows")
    }

    public static let documentation = [
        Declared.url.documentation, Declared.keyPrefix.documentation, Declared.audio.documentation, Declared.maxLength.documentation,
        Declared.healthIntervalSeconds.documentation,
    ]

    public var url: Secret
    public var keyPrefix: String
    public var audio: Bool
    public var maxLength: Int
    public var healthIntervalSeconds: Double

    public init(url: Secret = Declared.url.default, keyPrefix: String = Declared.keyPrefix.default, audio: Bool = Declared.audio.default,
                maxLength: Int = Declared.maxLength.default, healthIntervalSeconds: Double = Declared.healthIntervalSeconds.default) {
        self.url = url
        self.keyPrefix = keyPrefix
        self.audio = audio
        self.maxLength = maxLength
        self.healthIntervalSeconds = healthIntervalSeconds
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decode(Declared.url)
        keyPrefix = try c.decode(Declared.keyPrefix)
        audio = try c.decode(Declared.audio)
        maxLength = try c.decode(Declared.maxLength)
        healthIntervalSeconds = try c.decode(Declared.healthIntervalSeconds)
        guard maxLength >= 1 else { throw OptionError(key: "max_len", "must be at least 1, not \(maxLength)") }
        guard (0.1...60).contains(healthIntervalSeconds) else {
            throw OptionError(key: "health_interval_seconds", "must be between 0.1 and 60, not \(healthIntervalSeconds)")
        }
    }
}
