import Hummingbird
import Logging
import NIOCore
import RTMSIngest
import RelayCluster
import RelayCore
import SpillLog
import ServiceLifecycle
import ZoomAPI
import ZoomWebhooks
import UnixSignals

/// The relay: the sinks behind an `EventHub`, and the HTTP server, run as one service group.
///
/// Build it from a checked `RelayConfiguration`; `run()` serves until SIGTERM/SIGINT (or cancellation) and
/// then shuts down in order: HTTP first, then the hub drains every sink's queue and finishes each sink.
public final class Relay: Sendable {
    public let configuration: RelayConfiguration
    public let hub: EventHub
    public let metrics: RelayMetrics
    /// The sinks built from the config, by id, in config order.
    let sinks: [(id: String, sink: any Sink)]
    /// OAuth, tokens and REST; nil when the Zoom app credentials are not configured.
    public let zoom: ZoomConnection?
    /// Where the agent page's files are: built in, or `server.web_root`.
    let webAssets: WebAssets
    /// Engagements and their streams, as the webhooks and sessions report them.
    public let registry: EngagementRegistry
    /// Verifies and queues Zoom's webhooks.
    public let webhooks: WebhookReceiver
    /// One RTMS session per stream.
    public let ingest: IngestService
    /// Where ingest's events go (the hub, and the registry — through the shared log in cluster mode).
    public let publisher: IngestPublisher
    /// Cluster mode's shared Redis state; nil for a single instance (no Redis connection at all).
    public let cluster: RedisCluster?
    /// The HTTP connection cap (`server.max_connections`, lowered to fit the descriptor limit) and its counters.
    public let httpConnections: HTTPConnectionGuard
    let logger: Logger
    /// Asks Zoom who is on an engagement the webhooks did not bind (nil without Zoom credentials).
    let engagementLookups: EngagementLookups?
    /// Open live feeds, capped per caller and in all.
    let eventStreamLimits: EventStreamLimits
    /// What the recordings page reads: the first sink that archives calls, and every sink that writes audio files.
    let callArchive: (any CallArchive)?
    let audioFiles: [any AudioFiles]

    /// Builds every configured sink and the Zoom connection. Throws `ConfigError` (naming the sink) when a
    /// sink cannot be built.
    public init(
        configuration: RelayConfiguration, sinkRegistry: SinkRegistry, logger: Logger,
        metrics: RelayMetrics = RelayMetrics(),
        adjustIngest: (inout RTMSClientConfiguration) -> Void = { _ in }
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        webAssets = try WebAssets(configuration: configuration)
        httpConnections = HTTPConnectionGuard(maxConnections: DescriptorBudget.httpConnectionCap(configured: configuration.server.maxConnections))
        cluster = configuration.cluster.isEnabled ? try RedisCluster(configuration: configuration, logger: logger) : nil
        let zoomSettings = configuration.zoom
        if !zoomSettings.clientID.isEmpty, !zoomSettings.clientSecret.isEmpty {
            zoom = try ZoomConnection(configuration: configuration, logger: logger, logins: cluster?.makePendingLogins() ?? PendingLogins())
        } else {
            zoom = nil
        }
        for warning in configuration.warnings { logger.warning("\(warning)") }
        var members = try sinkRegistry.makeSinks(configuration.sinks, of: configuration, logger: logger, openSpill: SQLiteSpillLog.opener)
        sinks = members.map { (id: $0.id, sink: $0.sink) }
        callArchive = members.lazy.compactMap { ($0.sink as? any CallArchiveSink)?.callArchive }.first
        audioFiles = members.compactMap { ($0.sink as? any AudioFileSink)?.audioFiles }
        if let cluster { members.append(cluster.eventRelayMember) }
        hub = EventHub(members: members, logger: logger)
        registry = EngagementRegistry()
        webhooks = WebhookReceiver(
            verifier: WebhookVerifier(secretToken: zoomSettings.webhookSecret.value, toleranceSeconds: zoomSettings.webhookToleranceSeconds),
            maxBodyBytes: configuration.server.maxBodyBytes,
            deliveryLog: cluster == nil ? zoom?.store as? any WebhookDeliveryLog : nil, logger: logger
        )
        var client: RTMSClientConfiguration
        do {
            client = try RTMSClientConfiguration(settings: zoomSettings)
            adjustIngest(&client)
        } catch {
            throw configuration.error(at: "zoom.ca_file", "\(error)")
        }
        publisher = IngestPublisher(hub: hub, registry: registry, log: cluster?.engagementLog)
        engagementLookups = zoom.map { EngagementLookups(rest: $0.rest, logger: logger) }
        eventStreamLimits = EventStreamLimits(perCaller: configuration.server.maxEventStreamsPerCaller, total: configuration.server.maxEventStreams)
        ingest = IngestService(configuration: client, webhooks: webhooks.events, publisher: publisher, cluster: cluster, logger: logger)
    }

    /// The HTTP routes and middleware of README.md, "HTTP".
    public func makeRouter() -> Router<RelayRequestContext> {
        let router = Router(context: RelayRequestContext.self)
        router.middlewares.add(RequestLoggingMiddleware())
        router.middlewares.add(SecurityHeadersMiddleware(https: configuration.server.publicURL.hasPrefix("https://")))
        router.middlewares.add(JSONErrorMiddleware())
        router.middlewares.add(MetricsMiddleware())
        router.middlewares.add(CrossSiteRequestMiddleware(publicURL: configuration.server.publicURL, allowLoopbackOrigins: configuration.server.allowAnonymous))
        router.middlewares.add(BodyLimitMiddleware(maxBytes: configuration.server.maxBodyBytes))
        let hub = self.hub, ingest = self.ingest, webhooks = self.webhooks, connections = self.httpConnections, zoom = self.zoom
        router.addHealthRoutes(
            sources: HealthSources(
                sinks: { hub.snapshot() },
                activeStreams: { ingest.activeStreamCount },
                samples: { RelayMetrics.ingestSamples(ingest.metrics, webhooks.counters) + connections.samples },
                missingCredentials: configuration.zoom.missingCredentials,
                webhooksSeen: { webhooks.counters.seen },
                zoom: {
                    guard let zoom else { return .init(connectedAccounts: nil, unsaved: []) }
                    return .init(connectedAccounts: await zoom.refresher.connectedAccountCount, unsaved: await zoom.refresher.accountsWithUnsavedTokens)
                }
            ),
            metrics: metrics
        )
        let authRoutes = AuthRoutes(zoom: zoom, logger: logger)
        authRoutes.addCallback(to: router)
        let ingestRoutes = IngestRoutes(webhooks: webhooks, publisher: publisher, maxBodyBytes: configuration.server.maxBodyBytes)
        ingestRoutes.addWebhookRoute(to: router)
        let protected = router.group().add(middleware: AccessControlMiddleware(policy: accessPolicy))
        let access = engagementAccess
        authRoutes.addProtected(to: protected)
        ControlRoutes(zoom: zoom, hub: hub, access: access, logger: logger).add(to: protected)
        ingestRoutes.addEngagementRoutes(to: protected, access: access)
        EventStreamRoutes(source: eventStreamSource, access: access, limits: eventStreamLimits).add(to: protected)
        RecordingRoutes(archive: callArchive, audio: audioFiles, access: access).add(to: protected)
        PageRoutes(assets: webAssets, clientSecret: zoom == nil ? nil : configuration.zoom.clientSecret.value, signer: zoom?.signer, logger: logger)
            .add(to: router)
        return router
    }

    /// The live feed of the first sink that serves one (a `type: web` sink), if one is configured.
    public var eventStreamSource: (any EventStreamSource)? {
        sinks.lazy.compactMap { ($0.sink as? any EventFeedSink)?.feed }.first
    }

    /// The sink built for `id`, if it has type `S` (for tests and embedding).
    public func sink<S: Sink>(_ id: String, as type: S.Type = S.self) -> S? {
        sinks.first { $0.id == id }?.sink as? S
    }

    /// Who may call the browser API.
    public var accessPolicy: AccessPolicy {
        AccessPolicy(allowAnonymous: configuration.server.allowAnonymous, operatorToken: configuration.server.accessToken,
                     signer: zoom?.signer, access: configuration.access)
    }

    /// What each caller may see and control.
    var engagementAccess: EngagementAccess {
        EngagementAccess(bindings: registry.bindings, lookups: engagementLookups)
    }

    /// The HTTP application on `server.host:server.port`, with the idle, header and body timeouts and the
    /// connection cap of `server:`. `onServerRunning` receives the bound port (useful with port 0 in tests).
    public func makeApplication(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let server = configuration.server
        return Application(
            router: makeRouter(),
            server: GuardedHTTP1Channel.builder(
                idleTimeout: .seconds(Int64(server.idleTimeoutSeconds)), headerTimeout: .seconds(Int64(server.headerTimeoutSeconds)),
                bodyTimeout: .seconds(Int64(server.bodyTimeoutSeconds)), connections: httpConnections
            ),
            configuration: .init(address: .hostname(configuration.server.host, port: configuration.server.port), serverName: "rtms-relay"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    /// The relay's services in shutdown order: the hub first (so it stops last and drains every sink), the
    /// cluster (which ingest's sessions still use while they stop), the feed of other instances' events into the
    /// hub's live views, the token refresher, ingest, then HTTP.
    public func makeServiceGroup(
        gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint],
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> ServiceGroup {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: hub)]
        if let cluster {
            services.append(.init(service: cluster))
            services.append(.init(service: RemoteEventFeed(events: cluster.remoteEvents, hub: hub)))
        }
        if let zoom {
            services.append(.init(service: TokenRefreshService(refresher: zoom.refresher, interval: .seconds(60))))
        }
        services.append(.init(service: ingest))
        services.append(.init(service: makeApplication(onServerRunning: onServerRunning)))
        return ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: gracefulShutdownSignals, logger: logger))
    }

    /// Serves until a shutdown signal, then shuts down gracefully.
    public func run(
        gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint],
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        try await makeServiceGroup(gracefulShutdownSignals: gracefulShutdownSignals, onServerRunning: onServerRunning).run()
    }
}

/// Cluster mode: other instances' events into this hub's live-view sinks (`EventHub.publishRemote`). The cluster
/// produces them and the hub consumes them; this is the only place that knows both.
struct RemoteEventFeed: Service {
    let events: AsyncStream<[StreamEvent]>
    let hub: EventHub

    func run() async {
        let events = events, hub = hub
        await cancelWhenGracefulShutdown {
            for await batch in events { await hub.publishRemote(batch) }
        }
    }
}
