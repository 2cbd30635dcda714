import RelayCore

/// The options of a `type: redis` sink.
///
/// ```yaml
/// sinks:
///   bus:
///     type: redis
///     url: redis://127.0.0.1:6379   # redis://[user:password@]host:port/db
///     key_prefix: "rtms:"
///     audio: false                  # true: audio frames go into the streams too (PCM base64 in the JSON)
///     max_len: 100000               # XADD … MAXLEN ~ max_len per engagement stream
///     health_interval_seconds: 2    # PING Redis when nothing was sent for this long
/// ```
public struct RedisSinkOptions: SinkOptions, Encodable {
    public var url = Secret("redis://127.0.0.1:6379")
    public var keyPrefix = "rtms:"
    public var audio = false
    public var maxLength = 100_000
    /// While nothing goes to Redis (only audio flowing, with `audio: false`; no call at all), the sink PINGs it
    /// this often, so `/health` says within this long that Redis died.
    public var healthIntervalSeconds = 2.0

    enum CodingKeys: String, CodingKey {
        case url, audio
        case keyPrefix = "key_prefix"
        case maxLength = "max_len"
        case healthIntervalSeconds = "health_interval_seconds"
    }

    public init(url: Secret = Secret("redis://127.0.0.1:6379"), keyPrefix: String = "rtms:", audio: Bool = false, maxLength: Int = 100_000,
                healthIntervalSeconds: Double = 2.0) {
        self.url = url
        self.keyPrefix = keyPrefix
        self.audio = audio
        self.maxLength = maxLength
        self.healthIntervalSeconds = healthIntervalSeconds
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decodeIfPresent(Secret.self, forKey: .url) ?? url
        keyPrefix = try c.decodeIfPresent(String.self, forKey: .keyPrefix) ?? keyPrefix
        audio = try c.decodeIfPresent(Bool.self, forKey: .audio) ?? audio
        maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength) ?? maxLength
        healthIntervalSeconds = try c.decodeIfPresent(Double.self, forKey: .healthIntervalSeconds) ?? healthIntervalSeconds
        guard maxLength >= 1 else { throw OptionError(key: "max_len", "must be at least 1, not \(maxLength)") }
        guard (0.1...60).contains(healthIntervalSeconds) else {
            throw OptionError(key: "health_interval_seconds", "must be between 0.1 and 60, not \(healthIntervalSeconds)")
        }
    }

    public static let documentation = [
        OptionDocumentation("url", "secret string", default: "redis://127.0.0.1:6379", "redis://[user:password@]host[:port][/db]"),
        OptionDocumentation("key_prefix", "string", default: "rtms:", "prefix of the channel ({prefix}events) and streams ({prefix}stream:{engagement})"),
        OptionDocumentation("audio", "bool", default: "false", "also add audio frames to the streams (PCM base64 in the event JSON); never published"),
        OptionDocumentation("max_len", "integer", default: "100000", "approximate length cap of each engagement stream (XADD MAXLEN ~)"),
        OptionDocumentation("health_interval_seconds", "number", default: "2", "PING Redis when nothing was sent for this long, so /health reports a dead Redis within it even while only audio flows"),
    ]
}
