import Hummingbird
import RelayCore

/// What `/health` reports (README.md, "HTTP").
struct HealthReport: Encodable {
    /// `ok`; `not_ready` while the relay cannot receive calls at all (`zoom.credentials` says why); `degraded`
    /// while a sink is in trouble or a rotated refresh token is unsaved.
    var status: String
    var sinks: [String: SinkSnapshot]
    var streams: Int
    var zoom: ZoomHealth
    var version: String
}

/// The Zoom side of `/health`: whether the relay can receive calls and act on them.
struct ZoomHealth: Encodable {
    /// `ok`, or `missing …` naming the config keys without which webhooks or RTMS handshakes fail.
    var credentials: String
    /// `ok: N account(s) connected`, or what to do (RTMS control and engagement lookups need a token).
    var token: String
    /// Verified webhooks received since start (events acted on or not, and endpoint validations).
    var webhooksSeen: Int
    /// How many accounts' rotated refresh token could not be saved: the relay holds the only copy in memory and
    /// keeps retrying; a restart now would force a reconnect of these accounts (the log names them; this route
    /// is open, so it names no account). Omitted when none.
    var unsavedRefreshTokens: Int?

    enum CodingKeys: String, CodingKey {
        case credentials, token
        case webhooksSeen = "webhooks_seen"
        case unsavedRefreshTokens = "unsaved_refresh_tokens"
    }
}

extension Router where Context == RelayRequestContext {
    /// `GET /health`: 200 `ok`; 503 `not_ready` while Zoom credentials are missing, 503 `degraded` while a sink
    /// is restarting or reports trouble, or a rotated Zoom refresh token is not saved yet.
    /// `GET /metrics`: Prometheus text.
    func addHealthRoutes(sources: HealthSources, metrics: RelayMetrics) {
        get("/health") { _, _ -> Response in
            let sinks = sources.sinks()
            let zoom = await sources.zoom()
            let missing = sources.missingCredentials
            let degraded = sinks.contains { $0.isDegraded } || !zoom.unsaved.isEmpty
            let status = !missing.isEmpty ? "not_ready" : degraded ? "degraded" : "ok"
            let token = switch zoom.connectedAccounts {
            case nil: "off: zoom.client_id and zoom.client_secret are not set"
            case 0?: "no account connected: use Connect to Zoom (RTMS control needs it)"
            case let count?: "ok: \(count) account\(count == 1 ? "" : "s") connected"
            }
            let report = HealthReport(
                status: status,
                sinks: Dictionary(sinks.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }),
                streams: await sources.activeStreams(),
                zoom: ZoomHealth(
                    credentials: missing.isEmpty ? "ok" : "missing \(missing.joined(separator: ", ")): webhooks and RTMS streams are refused",
                    token: token, webhooksSeen: sources.webhooksSeen(),
                    unsavedRefreshTokens: zoom.unsaved.isEmpty ? nil : zoom.unsaved.count),
                version: RelayVersion.current
            )
            return try Response.json(report, status: status == "ok" ? .ok : .serviceUnavailable)
        }
        get("/metrics") { _, _ -> Response in
            let text = metrics.render(sinks: sources.sinks(), activeStreams: await sources.activeStreams(), samples: sources.samples())
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: text))
            )
        }
    }
}

/// Where health and metrics read their numbers, so the routes know nothing of how the relay is wired.
public struct HealthSources: Sendable {
    /// What the token store says about the Zoom accounts.
    public struct ZoomAccounts: Sendable {
        /// Accounts with usable tokens (`TokenRefresher.connectedAccountCount`); nil when the relay has no OAuth
        /// client (no client id or secret).
        public var connectedAccounts: Int?
        /// Accounts whose rotated refresh token the token store has not taken yet.
        public var unsaved: [String]

        public init(connectedAccounts: Int?, unsaved: [String]) {
            self.connectedAccounts = connectedAccounts
            self.unsaved = unsaved
        }
    }

    public var sinks: @Sendable () -> [SinkSnapshot]
    public var activeStreams: @Sendable () async -> Int
    /// Further counters read at scrape time (ingest, webhooks).
    public var samples: @Sendable () -> [MetricSample]
    /// The config keys without which the relay receives no calls (`zoom.client_id`, …); empty when all are set.
    public var missingCredentials: [String]
    public var webhooksSeen: @Sendable () -> Int
    public var zoom: @Sendable () async -> ZoomAccounts

    public init(
        sinks: @escaping @Sendable () -> [SinkSnapshot], activeStreams: @escaping @Sendable () async -> Int,
        samples: @escaping @Sendable () -> [MetricSample] = { [] }, missingCredentials: [String] = [],
        webhooksSeen: @escaping @Sendable () -> Int = { 0 },
        zoom: @escaping @Sendable () async -> ZoomAccounts = { ZoomAccounts(connectedAccounts: nil, unsaved: []) }
    ) {
        self.sinks = sinks
        self.activeStreams = activeStreams
        self.samples = samples
        self.missingCredentials = missingCredentials
        self.webhooksSeen = webhooksSeen
        self.zoom = zoom
    }
}
