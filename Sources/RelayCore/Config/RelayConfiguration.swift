/// The relay's whole configuration (README.md, "Configuration"; config.yaml.example), decoded strictly from YAML by `ConfigLoader`.
public struct RelayConfiguration: Sendable {
    /// Where it came from: a file path or `<embedded defaults>`.
    public var source: String
    public var server: ServerSettings
    public var zoom: ZoomSettings
    public var tokenStore: TokenStoreSettings
    public var cluster: ClusterSettings
    public var access: AccessSettings
    /// The sinks, in config order.
    public var sinks: [SinkSettings]
    /// The line of every key in the file, by dotted path (`zoom.ca_file`, `sinks.qa.path`).
    public var keyLines: [String: Int] = [:]

    /// The error for a value that the relay could not use when it started (a CA file it cannot read, a Redis URL
    /// it cannot parse): `ConfigError` at the line of `key` (a dotted path), so start-up failures point into the
    /// file like decoding errors do.
    public func error(at key: String, _ message: String) -> ConfigError {
        ConfigError(file: source, line: keyLines[key] ?? 0, message: "\(key): \(message)")
    }
}

/// `server:` — where the relay listens and who may call it.
public struct ServerSettings: Sendable, Decodable {
    public var host = "127.0.0.1"
    public var port = 3001
    public var publicURL = "http://localhost:3001"
    public var accessToken = Secret("")
    public var allowAnonymous = false
    public var maxBodyBytes = 262_144
    /// Open `GET /api/events` streams allowed in all, and per caller (one session, the operator token).
    public var maxEventStreams = 1000
    public var maxEventStreamsPerCaller = 10
    /// A kept-alive connection with no request in progress is closed after this long.
    public var idleTimeoutSeconds = 60
    /// A new connection must have sent its first request head within this long (slowloris).
    public var headerTimeoutSeconds = 10
    /// A request body must be complete within this long of its head.
    public var bodyTimeoutSeconds = 30
    /// The most HTTP connections open at once; lowered at start-up to keep descriptors free for RTMS sockets.
    public var maxConnections = 1000
    /// A folder to serve the agent page from instead of the copy built into the binary (for working on the
    /// page: files are read on every request). Empty: the built-in page.
    public var webRoot = ""

    public init() {}

    enum CodingKeys: String, CodingKey {
        case host, port
        case publicURL = "public_url"
        case accessToken = "access_token"
        case allowAnonymous = "allow_anonymous"
        case maxBodyBytes = "max_body_bytes"
        case maxEventStreams = "max_event_streams"
        case maxEventStreamsPerCaller = "max_event_streams_per_caller"
        case idleTimeoutSeconds = "idle_timeout_seconds"
        case headerTimeoutSeconds = "header_timeout_seconds"
        case bodyTimeoutSeconds = "body_timeout_seconds"
        case maxConnections = "max_connections"
        case webRoot = "web_root"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? port
        publicURL = try c.decodeIfPresent(String.self, forKey: .publicURL) ?? publicURL
        accessToken = try c.decodeIfPresent(Secret.self, forKey: .accessToken) ?? accessToken
        allowAnonymous = try c.decodeIfPresent(Bool.self, forKey: .allowAnonymous) ?? allowAnonymous
        maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? maxBodyBytes
        maxEventStreams = try c.decodeIfPresent(Int.self, forKey: .maxEventStreams) ?? maxEventStreams
        maxEventStreamsPerCaller = try c.decodeIfPresent(Int.self, forKey: .maxEventStreamsPerCaller) ?? maxEventStreamsPerCaller
        guard maxEventStreams > 0, maxEventStreamsPerCaller > 0 else {
            throw OptionError(key: maxEventStreams > 0 ? "max_event_streams_per_caller" : "max_event_streams", "must be at least 1")
        }
        idleTimeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .idleTimeoutSeconds) ?? idleTimeoutSeconds
        headerTimeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .headerTimeoutSeconds) ?? headerTimeoutSeconds
        bodyTimeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .bodyTimeoutSeconds) ?? bodyTimeoutSeconds
        maxConnections = try c.decodeIfPresent(Int.self, forKey: .maxConnections) ?? maxConnections
        webRoot = try c.decodeIfPresent(String.self, forKey: .webRoot) ?? webRoot
        guard (0...65535).contains(port) else { throw OptionError(key: "port", "must be between 0 and 65535, not \(port)") }
        guard !host.isEmpty else { throw OptionError(key: "host", "must not be empty") }
        guard maxBodyBytes > 0 else { throw OptionError(key: "max_body_bytes", "must be positive") }
        for (key, seconds) in [("idle_timeout_seconds", idleTimeoutSeconds), ("header_timeout_seconds", headerTimeoutSeconds), ("body_timeout_seconds", bodyTimeoutSeconds)] where !(1...86_400).contains(seconds) {
            throw OptionError(key: key, "must be between 1 and 86400, not \(seconds)")
        }
        guard maxConnections > 0 else { throw OptionError(key: "max_connections", "must be positive") }
        guard publicURL.hasPrefix("http://") || publicURL.hasPrefix("https://") else {
            throw OptionError(key: "public_url", "must start with http:// or https://, not '\(publicURL)'")
        }
        if allowAnonymous && !Self.isLoopback(host) {
            throw OptionError(
                key: "allow_anonymous",
                "is only allowed when server.host is a loopback address (127.0.0.1, ::1, localhost), not '\(host)'"
            )
        }
        if allowAnonymous && WebOrigin(url: publicURL)?.isLoopback != true {
            throw OptionError(
                key: "allow_anonymous",
                "is only allowed when server.public_url is on this machine too (http://localhost:PORT, http://127.0.0.1:PORT, http://[::1]:PORT), not '\(publicURL)': behind a tunnel or proxy the anonymous API would be public"
            )
        }
    }

    /// True for hosts only this machine can reach: a literal 127.0.0.0/8 IPv4 address, `::1` (bracketed or not),
    /// or `localhost`. A name that merely starts with `127.` (`127.attacker.example`) is not loopback.
    public static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased()
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { part in
            (1...3).contains(part.count) && part.allSatisfy { $0.isASCII && $0.isNumber } && (Int(part) ?? 256) <= 255
        }
    }
}

/// `zoom:` — the Zoom app's credentials and where Zoom lives.
public struct ZoomSettings: Sendable, Decodable {
    public var clientID = ""
    public var clientSecret = Secret("")
    public var webhookSecret = Secret("")
    public var oauthURL = "https://zoom.us"
    public var apiURL = "https://api.zoom.us/v2"
    public var rtmsAllowedHosts = ["*.zoom.us"]
    public var caFile = ""
    public var webhookToleranceSeconds = 300
    /// `allow_insecure_rtms`: admit plain `ws://` RTMS URLs (local simulators only; Zoom uses `wss://`).
    public var allowInsecureRTMS = false
    /// `transcripts`: ask Zoom for its live transcript as well as the audio (media types 1 + 8 on the `all` media
    /// URL, docs/rtms-media.md). False asks for audio only.
    public var transcripts = true
    /// `proxy`: the HTTP proxy for every outbound connection (OAuth, REST, RTMS). When the key is absent,
    /// `HTTPS_PROXY` from the environment (the config loader reads it); `proxy: ""` turns that off.
    public var proxy: OutboundProxy?
    /// Whether `proxy` was written in the config (then the environment is not consulted).
    public var proxyIsConfigured = false

    /// The keys without which the relay receives no calls: webhooks are verified with `webhook_secret`, RTMS
    /// handshakes are signed with `client_id` and `client_secret`. Empty when all are set.
    public var missingCredentials: [String] {
        [("zoom.client_id", clientID.isEmpty), ("zoom.client_secret", clientSecret.isEmpty), ("zoom.webhook_secret", webhookSecret.isEmpty)]
            .filter(\.1).map(\.0)
    }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case clientID = "client_id"
        case clientSecret = "client_secret"
        case webhookSecret = "webhook_secret"
        case oauthURL = "oauth_url"
        case apiURL = "api_url"
        case rtmsAllowedHosts = "rtms_allowed_hosts"
        case caFile = "ca_file"
        case webhookToleranceSeconds = "webhook_tolerance_seconds"
        case allowInsecureRTMS = "allow_insecure_rtms"
        case transcripts, proxy
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        clientID = try c.decodeIfPresent(String.self, forKey: .clientID) ?? clientID
        clientSecret = try c.decodeIfPresent(Secret.self, forKey: .clientSecret) ?? clientSecret
        webhookSecret = try c.decodeIfPresent(Secret.self, forKey: .webhookSecret) ?? webhookSecret
        oauthURL = try c.decodeIfPresent(String.self, forKey: .oauthURL) ?? oauthURL
        apiURL = try c.decodeIfPresent(String.self, forKey: .apiURL) ?? apiURL
        rtmsAllowedHosts = try c.decodeIfPresent([String].self, forKey: .rtmsAllowedHosts) ?? rtmsAllowedHosts
        caFile = try c.decodeIfPresent(String.self, forKey: .caFile) ?? caFile
        webhookToleranceSeconds = try c.decodeIfPresent(Int.self, forKey: .webhookToleranceSeconds) ?? webhookToleranceSeconds
        allowInsecureRTMS = try c.decodeIfPresent(Bool.self, forKey: .allowInsecureRTMS) ?? allowInsecureRTMS
        transcripts = try c.decodeIfPresent(Bool.self, forKey: .transcripts) ?? transcripts
        if let text = try c.decodeIfPresent(Secret.self, forKey: .proxy)?.value {
            proxyIsConfigured = true
            proxy = text.isEmpty ? nil : try OutboundProxy(url: text, key: "proxy")
        }
        for (key, url) in [("oauth_url", oauthURL), ("api_url", apiURL)] where !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            throw OptionError(key: key, "must start with http:// or https://, not '\(url)'")
        }
        guard webhookToleranceSeconds > 0 else {
            throw OptionError(key: "webhook_tolerance_seconds", "must be positive")
        }
        if let bad = rtmsAllowedHosts.first(where: { $0.isEmpty || $0.contains("/") || $0.contains(":") }) {
            throw OptionError(key: "rtms_allowed_hosts", "'\(bad)' is not a host name or '*.domain' pattern")
        }
    }
}

/// `token_store:` — where OAuth tokens live.
public struct TokenStoreSettings: Sendable, Decodable {
    public enum Kind: String, Sendable, Decodable, CaseIterable {
        case sqlite, redis
    }

    public var kind = Kind.sqlite
    public var path = "data/relay.sqlite"
    public var url = Secret("")

    public init() {}

    enum CodingKeys: String, CodingKey { case kind, path, url }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decodeIfPresent(Kind.self, forKey: .kind) ?? kind
        path = try c.decodeIfPresent(String.self, forKey: .path) ?? path
        url = try c.decodeIfPresent(Secret.self, forKey: .url) ?? url
        if kind == .redis && url.isEmpty {
            throw OptionError(key: "url", "is required when kind is redis (e.g. redis://127.0.0.1:6379/0)")
        }
    }
}

/// `cluster:` — several instances sharing one Redis (README.md, "Running several instances (cluster mode)").
public struct ClusterSettings: Sendable, Decodable {
    /// Empty means a single instance (no Redis connection at all). May hold a password, so it is a `Secret`.
    public var redisURL = Secret("")
    /// Prepended to every key and channel the cluster uses, so several relays can share one Redis database.
    public var keyPrefix = "rtms-relay:"
    /// How long a stream's ownership lease outlives an owner that stopped renewing it (it renews every third).
    public var leaseMilliseconds = 15_000
    /// Whether audio frames are relayed to the other instances too (their agent pages then show levels and chunk
    /// counts of streams this instance ingests); non-audio events always are.
    public var relayAudio = true
    /// `secret`: the key every instance signs (HMAC-SHA256) and checks shared webhooks, stream details and live
    /// events with, so that writing to Redis is not enough to steer the relay. Required in cluster mode.
    public var secret = Secret("")

    /// True when `redis_url` is set.
    public var isEnabled: Bool { !redisURL.isEmpty }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case redisURL = "redis_url"
        case keyPrefix = "key_prefix"
        case leaseMilliseconds = "lease_ms"
        case relayAudio = "relay_audio"
        case secret
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        redisURL = try c.decodeIfPresent(Secret.self, forKey: .redisURL) ?? redisURL
        keyPrefix = try c.decodeIfPresent(String.self, forKey: .keyPrefix) ?? keyPrefix
        leaseMilliseconds = try c.decodeIfPresent(Int.self, forKey: .leaseMilliseconds) ?? leaseMilliseconds
        relayAudio = try c.decodeIfPresent(Bool.self, forKey: .relayAudio) ?? relayAudio
        secret = try c.decodeIfPresent(Secret.self, forKey: .secret) ?? secret
        if isEnabled && secret.value.utf8.count < 16 {
            throw OptionError(key: "secret", "is required when redis_url is set: at least 16 characters shared by every "
                + "instance (e.g. secret: ${RELAY_CLUSTER_SECRET}); cluster messages in Redis are signed with it")
        }
        guard (300...600_000).contains(leaseMilliseconds) else {
            throw OptionError(key: "lease_ms", "must be between 300 and 600000, not \(leaseMilliseconds)")
        }
    }
}

/// One entry of `sinks:`: its id, type, queue and decoded options.
public struct SinkSettings: Sendable {
    public var id: String
    public var typeName: String
    public var queue: QueuePolicy
    public var options: any SinkOptions
    /// The line of the sink's id in the config.
    public var line: Int
}

extension QueuePolicy {
    enum CodingKeys: String, CodingKey {
        case capacity, overflow
        case spillPath = "spill_path"
        case spillMaxBytes = "spill_max_bytes"
        case batchWindowMillis = "batch_window_ms"
    }

    /// A `queue:` block as written; `policy(defaultOverflow:)` fills in the sink type's defaults.
    struct Settings: Decodable {
        var capacity: Int?
        var overflow: Overflow?
        var spillPath: String?
        var spillMaxBytes: Int64?
        var batchWindowMillis: Int?

        init() {}

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            capacity = try c.decodeIfPresent(Int.self, forKey: .capacity)
            overflow = try c.decodeIfPresent(Overflow.self, forKey: .overflow)
            spillPath = try c.decodeIfPresent(String.self, forKey: .spillPath)
            spillMaxBytes = try c.decodeIfPresent(Int64.self, forKey: .spillMaxBytes)
            batchWindowMillis = try c.decodeIfPresent(Int.self, forKey: .batchWindowMillis)
        }

        /// The policy, with `defaultOverflow` where `overflow` was not given; refuses what makes no sense.
        func policy(defaultOverflow: Overflow) throws -> QueuePolicy {
            var policy = QueuePolicy(overflow: overflow ?? defaultOverflow)
            policy.capacity = capacity ?? policy.capacity
            guard policy.capacity > 0 else { throw OptionError(key: "capacity", "must be at least 1, not \(policy.capacity)") }
            if policy.overflow != .spill {
                if spillPath != nil { throw OptionError(key: "spill_path", "only applies with overflow: spill, not \(policy.overflow.rawValue)") }
                if spillMaxBytes != nil { throw OptionError(key: "spill_max_bytes", "only applies with overflow: spill, not \(policy.overflow.rawValue)") }
            }
            if let spillPath {
                guard !spillPath.isEmpty else { throw OptionError(key: "spill_path", "must not be empty") }
                policy.spillPath = spillPath
            }
            if let spillMaxBytes {
                guard spillMaxBytes >= 1 << 20 else { throw OptionError(key: "spill_max_bytes", "must be at least 1048576 (1 MiB), not \(spillMaxBytes)") }
                policy.spillMaxBytes = spillMaxBytes
            }
            if let batchWindowMillis {
                guard (0...QueuePolicy.maximumBatchWindowMillis).contains(batchWindowMillis) else {
                    throw OptionError(key: "batch_window_ms", "must be 0 to \(QueuePolicy.maximumBatchWindowMillis) (milliseconds), not \(batchWindowMillis)")
                }
                policy.batchWindow = .milliseconds(batchWindowMillis)
            }
            return policy
        }
    }
}
