import NIOConcurrencyHelpers
import Logging
import RelayCore
import ServiceLifecycle
import ZoomWebhooks

/// Turns verified webhooks into RTMS sessions and owns them (README.md, "How a call flows"): one `RTMSSession` per
/// `rtms_stream_id`, each a child task of `run()`.
///
/// A `server_urls` host outside `rtms_allowed_hosts` is refused before any connection (`stream.failed`). A second
/// `rtms_started` for a live stream is a failover and goes to that stream's session, never to a second one (a
/// failover URL the allow-list refuses is ignored there, and the live connection goes on). On
/// graceful shutdown every session sends STREAM_CLOSE_REQ, closes its sockets and publishes `stream.stopped`
/// before `run()` returns, so the hub (shut down after ingest) still delivers those events.
///
/// In cluster mode (an `IngestCluster`) every instance sees every instance's webhooks; only the instance that wins
/// a stream's ownership lease connects. A started or interrupted webhook for a stream whose owner's lease is still
/// held schedules one more attempt right after that lease would lapse: a dead owner stops renewing, so another
/// instance takes the stream over and connects afresh (the reconnect Zoom expects after an interruption). What no
/// session owns (engagement events, a stop for a stream nobody runs) is published by the instance Zoom sent it to.
public final class IngestService: Service, Sendable {
    private enum Command: Sendable {
        case webhook(ZoomWebhookEvent, isLocal: Bool)
        case takeover(streamID: String)
        case sessionEnded(String, RTMSSession)
        case shutdown
    }

    private let configuration: RTMSClientConfiguration
    private let webhooks: AsyncStream<ZoomWebhookEvent>
    private let publisher: IngestPublisher
    private let cluster: (any IngestCluster)?
    public let metrics: IngestMetrics
    private let logger: Logger
    private let sessions = NIOLockedValueBox<[String: RTMSSession]>([:])
    private let commands: AsyncStream<Command>
    private let commandContinuation: AsyncStream<Command>.Continuation

    /// - Parameters:
    ///   - webhooks: verified webhooks, in the order they arrived (the HTTP side's receiver checks signatures and
    ///     duplicates); the service ends its webhook loop when the stream finishes.
    ///   - publisher: the hub and registry events go to.
    ///   - cluster: cluster mode's shared webhooks and leases; nil for a single instance.
    public init(configuration: RTMSClientConfiguration, webhooks: AsyncStream<ZoomWebhookEvent>, publisher: IngestPublisher,
                cluster: (any IngestCluster)? = nil,
                metrics: IngestMetrics = IngestMetrics(), logger: Logger = Logger(label: "rtms-relay.ingest")) {
        self.configuration = configuration
        self.webhooks = webhooks
        self.publisher = publisher
        self.cluster = cluster
        self.metrics = metrics
        self.logger = logger
        (commands, commandContinuation) = AsyncStream.makeStream(of: Command.self)
    }

    /// Streams with a running session.
    public var activeStreamCount: Int { sessions.withLockedValue { $0.count } }

    /// The registry behind the engagement routes.
    public var registry: EngagementRegistry { publisher.registry }

    public func run() async throws {
        let commandContinuation = commandContinuation
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withTaskGroup(of: Void.self) { outer in
                    outer.addTask {
                        if let cluster = self.cluster {
                            await cluster.shareWebhooks(self.webhooks) { shared in
                                commandContinuation.yield(.webhook(shared.event, isLocal: shared.isLocal))
                            }
                        } else {
                            for await event in self.webhooks { commandContinuation.yield(.webhook(event, isLocal: true)) }
                        }
                    }
                    await withTaskGroup(of: Void.self) { group in
                        for await command in commands {
                            switch command {
                            case .webhook(let event, let isLocal):
                                await handle(event, isLocal: isLocal, group: &group)
                            case .takeover(let streamID):
                                await takeOver(streamID, retryWhenHeld: false, group: &group)
                            case .sessionEnded(let streamID, let session):
                                let removed = sessions.withLockedValue {
                                    guard $0[streamID] === session else { return false }
                                    $0[streamID] = nil
                                    return true
                                }
                                if removed { await cluster?.release(streamID: streamID, ended: true) }
                            case .shutdown:
                                break
                            }
                            if case .shutdown = command { break }
                        }
                        let running = sessions.withLockedValue { Array($0.values) }
                        logger.info("ingest shutting down", metadata: ["streams": "\(running.count)"])
                        for session in running { session.shutdown() }
                        await group.waitForAll()
                        // Their `sessionEnded` commands come after the loop: release the leases here.
                        for session in running { await cluster?.release(streamID: session.descriptor.streamID, ended: true) }
                    }
                    outer.cancelAll()
                }
            } onCancel: {
                commandContinuation.yield(.shutdown)
            }
        } onGracefulShutdown: {
            commandContinuation.yield(.shutdown)
        }
    }

    private func handle(_ event: ZoomWebhookEvent, isLocal: Bool, group: inout TaskGroup<Void>) async {
        switch event {
        case .engagementStarted(let id, let payload, _):
            guard isLocal else { return }
            await publisher.publish(.engagementStarted(payload: payload), engagementID: id, streamID: nil)
        case .engagementEnded(let id, let payload, _):
            guard isLocal else { return }
            await publisher.publish(.engagementEnded(payload: payload), engagementID: id, streamID: nil)
        case .rtmsStarted(let descriptor, let eventTs):
            if let session = sessions.withLockedValue({ $0[descriptor.streamID] }) {
                logger.info("rtms_started for a live stream: failover", metadata: ["rtms_stream_id": "\(descriptor.streamID)"])
                session.failover(serverURL: descriptor.serverURL, eventTs: eventTs)
                return
            }
            if case .failure(let refusal) = configuration.allowList.check(descriptor.serverURL) {
                guard isLocal else { return }
                metrics.refusedHost()
                logger.warning("server_urls refused", metadata: ["reason": "\(refusal)"])
                await publisher.publish(.streamFailed(statusCode: nil, message: "server_urls \(refusal)"),
                                        engagementID: descriptor.instanceID, streamID: descriptor.streamID)
                return
            }
            if let cluster {
                if isLocal { await cluster.remember(descriptor) }
                guard await claim(descriptor.streamID, retryWhenHeld: true, group: &group) else { return }
            }
            await start(descriptor, group: &group)
        case .rtmsInterrupted(_, _, let streamID, let eventTs):
            if let session = sessions.withLockedValue({ $0[streamID] }) {
                session.interrupted(eventTs: eventTs)
            } else if cluster != nil {
                await takeOver(streamID, retryWhenHeld: true, group: &group)
            }
        case .rtmsStopped(_, let instanceID, let streamID, let reason, _):
            if let session = sessions.withLockedValue({ $0[streamID] }) {
                session.stopped(reason: reason)
                return
            }
            guard isLocal else { return }
            // Another instance's session reports the stop itself.
            if let cluster, await cluster.forget(streamID: streamID) { return }
            if let state = await publisher.currentRegistry().streamState(streamID), state != .stopped {
                // The session already failed or was never allowed to connect: still say the stream is over, once.
                await publisher.publish(.streamStopped(RTMSStopReasons.reason(reason ?? 0)), engagementID: instanceID, streamID: streamID)
            }
        }
    }

    /// Starts this instance's session for a stream it may connect to.
    private func start(_ descriptor: RTMSStreamDescriptor, group: inout TaskGroup<Void>) async {
        await publisher.publish(.streamStarted(serverHost: HostAllowList.host(of: descriptor.serverURL) ?? ""),
                                engagementID: descriptor.instanceID, streamID: descriptor.streamID)
        let session = RTMSSession(descriptor: descriptor, configuration: configuration, publisher: publisher, metrics: metrics, logger: logger)
        sessions.withLockedValue { $0[descriptor.streamID] = session }
        let commandContinuation = commandContinuation
        group.addTask {
            await session.run()
            commandContinuation.yield(.sessionEnded(descriptor.streamID, session))
        }
    }

    /// Cluster mode: takes the ownership lease of a stream. When another instance holds it and `retryWhenHeld`,
    /// one more attempt is scheduled for just after that lease would lapse.
    private func claim(_ streamID: String, retryWhenHeld: Bool, group: inout TaskGroup<Void>) async -> Bool {
        guard let cluster else { return true }
        switch await cluster.acquire(streamID: streamID) {
        case .acquired:
            return true
        case .unavailable:
            logger.warning("cluster Redis unreachable: connecting without an ownership lease", metadata: ["rtms_stream_id": "\(streamID)"])
            return true
        case .held(let remaining):
            logger.debug("stream owned by another instance", metadata: ["rtms_stream_id": "\(streamID)", "lease_remaining": "\(remaining)"])
            if retryWhenHeld {
                let commandContinuation = commandContinuation
                group.addTask {
                    // Ends early on shutdown, so that it never holds ingest's exit back.
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: remaining + .milliseconds(100)) }
                    guard !Task.isCancelled, !Task.isShuttingDownGracefully else { return }
                    commandContinuation.yield(.takeover(streamID: streamID))
                }
            }
            return false
        }
    }

    /// Cluster mode: connects to a live stream no session here runs, if its owner's lease has lapsed.
    private func takeOver(_ streamID: String, retryWhenHeld: Bool, group: inout TaskGroup<Void>) async {
        guard let cluster, sessions.withLockedValue({ $0[streamID] }) == nil,
              let descriptor = await cluster.descriptor(streamID: streamID) else { return }
        guard await claim(streamID, retryWhenHeld: retryWhenHeld, group: &group) else { return }
        logger.warning("taking over a stream whose owner stopped renewing its lease", metadata: [
            "rtms_stream_id": "\(streamID)", "engagement_id": "\(descriptor.instanceID)",
        ])
        await start(descriptor, group: &group)
    }
}
