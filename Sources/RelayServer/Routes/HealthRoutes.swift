import Hummingbird
import RelayCore

/// What `/health` reports (SPEC §5.1).
struct HealthReport: Encodable {
    var status: String
    var sinks: [String: SinkSnapshot]
    var streams: Int
    /// Present when something about the Zoom account needs the operator.
    var zoom: ZoomHealth?
    var version: String
}

/// The Zoom side of `/health`.
struct ZoomHealth: Encodable {
    /// Accounts whose rotated refresh token could not be saved: the relay holds the only copy in memory and
    /// keeps retrying; a restart now would force a reconnect of these accounts.
    var unsavedRefreshTokens: [String]

    enum CodingKeys: String, CodingKey { case unsavedRefreshTokens = "unsaved_refresh_tokens" }
}

extension Router where Context == RelayRequestContext {
    /// `GET /health`: 200 `ok`, or 503 `degraded` when a sink is restarting or reports trouble, or a rotated
    /// Zoom refresh token is not saved yet.
    /// `GET /metrics`: Prometheus text.
    func addHealthRoutes(sources: HealthSources, metrics: RelayMetrics) {
        get("/health") { _, _ -> Response in
            let sinks = sources.sinks()
            let unsaved = await sources.unsavedTokenAccounts()
            let degraded = sinks.contains { $0.isDegraded } || !unsaved.isEmpty
            let report = HealthReport(
                status: degraded ? "degraded" : "ok",
                sinks: Dictionary(sinks.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }),
                streams: await sources.activeStreams(),
                zoom: unsaved.isEmpty ? nil : ZoomHealth(unsavedRefreshTokens: unsaved),
                version: RelayVersion.current
            )
            return try Response.json(report, status: degraded ? .serviceUnavailable : .ok)
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
    public var sinks: @Sendable () -> [SinkSnapshot]
    public var activeStreams: @Sendable () async -> Int
    /// Further counters read at scrape time (ingest, webhooks).
    public var samples: @Sendable () -> [MetricSample]
    /// Accounts whose rotated refresh token the token store has not taken yet.
    public var unsavedTokenAccounts: @Sendable () async -> [String]

    public init(
        sinks: @escaping @Sendable () -> [SinkSnapshot], activeStreams: @escaping @Sendable () async -> Int,
        samples: @escaping @Sendable () -> [MetricSample] = { [] },
        unsavedTokenAccounts: @escaping @Sendable () async -> [String] = { [] }
    ) {
        self.sinks = sinks
        self.activeStreams = activeStreams
        self.samples = samples
        self.unsavedTokenAccounts = unsavedTokenAccounts
    }
}
