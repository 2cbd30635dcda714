import NIOConcurrencyHelpers
import Logging
import RelayCore
import ServiceLifecycle
import ZoomAPI

/// Turns verified webhooks into RTMS sessions and owns them (SPEC §5.2): one `RTMSSession` per
/// `rtms_stream_id`, each a child task of `run()`.
///
/// A `server_urls` host outside `rtms_allowed_hosts` is refused before any connection (`stream.failed`). A second
/// `rtms_started` for a live stream is a failover and goes to that stream's session, never to a second one. On
/// graceful shutdown every session sends STREAM_CLOSE_REQ, closes its sockets and publishes `stream.stopped`
/// before `run()` returns, so the hub (shut down after ingest) still delivers those events.
public final class IngestService: Service, Sendable {
    private enum Command: Sendable {
        case webhook(ZoomWebhookEvent)
        case sessionEnded(String, RTMSSession)
        case shutdown
    }

    private let configuration: RTMSClientConfiguration
    private let webhooks: WebhookReceiver
    private let publisher: IngestPublisher
    public let metrics: IngestMetrics
    private let logger: Logger
    private let sessions = NIOLockedValueBox<[String: RTMSSession]>([:])
    private let commands: AsyncStream<Command>
    private let commandContinuation: AsyncStream<Command>.Continuation

    /// - Parameters:
    ///   - webhooks: the receiver behind `POST /api/webhooks/zoom`; this service consumes its `events`.
    ///   - publisher: the hub and registry events go to.
    public init(configuration: RTMSClientConfiguration, webhooks: WebhookReceiver, publisher: IngestPublisher,
                metrics: IngestMetrics = IngestMetrics(), logger: Logger = Logger(label: "rtms-relay.ingest")) {
        self.configuration = configuration
        self.webhooks = webhooks
        self.publisher = publisher
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
                        for await event in self.webhooks.events { commandContinuation.yield(.webhook(event)) }
                    }
                    await withTaskGroup(of: Void.self) { group in
                        for await command in commands {
                            switch command {
                            case .webhook(let event):
                                await handle(event, group: &group)
                            case .sessionEnded(let streamID, let session):
                                sessions.withLockedValue { if $0[streamID] === session { $0[streamID] = nil } }
                            case .shutdown:
                                break
                            }
                            if case .shutdown = command { break }
                        }
                        let running = sessions.withLockedValue { Array($0.values) }
                        logger.info("ingest shutting down", metadata: ["streams": "\(running.count)"])
                        for session in running { session.shutdown() }
                        await group.waitForAll()
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

    private func handle(_ event: ZoomWebhookEvent, group: inout TaskGroup<Void>) async {
        switch event {
        case .engagementStarted(let id, let payload, _):
            await publisher.publish(.engagementStarted(payload: payload), engagementID: id, streamID: nil)
        case .engagementEnded(let id, let payload, _):
            await publisher.publish(.engagementEnded(payload: payload), engagementID: id, streamID: nil)
        case .rtmsStarted(let descriptor, let eventTs):
            if let session = sessions.withLockedValue({ $0[descriptor.streamID] }) {
                logger.info("rtms_started for a live stream: failover", metadata: ["rtms_stream_id": "\(descriptor.streamID)"])
                session.failover(serverURL: descriptor.serverURL, eventTs: eventTs)
                return
            }
            guard configuration.allowList.allows(url: descriptor.serverURL) else {
                metrics.refusedHost()
                let host = HostAllowList.host(of: descriptor.serverURL) ?? descriptor.serverURL
                logger.warning("server_urls refused by rtms_allowed_hosts", metadata: ["host": "\(host)"])
                await publisher.publish(.streamFailed(statusCode: nil, message: "server_urls host '\(host)' is not in rtms_allowed_hosts"),
                                        engagementID: descriptor.instanceID, streamID: descriptor.streamID)
                return
            }
            await publisher.publish(.streamStarted(serverHost: HostAllowList.host(of: descriptor.serverURL) ?? ""),
                                    engagementID: descriptor.instanceID, streamID: descriptor.streamID)
            let session = RTMSSession(descriptor: descriptor, configuration: configuration, publisher: publisher, metrics: metrics, logger: logger)
            sessions.withLockedValue { $0[descriptor.streamID] = session }
            let commandContinuation = commandContinuation
            group.addTask {
                await session.run()
                commandContinuation.yield(.sessionEnded(descriptor.streamID, session))
            }
        case .rtmsInterrupted(_, _, let streamID, let eventTs):
            sessions.withLockedValue { $0[streamID] }?.interrupted(eventTs: eventTs)
        case .rtmsStopped(_, let instanceID, let streamID, let reason, _):
            if let session = sessions.withLockedValue({ $0[streamID] }) {
                session.stopped(reason: reason)
            } else if let state = await publisher.registry.streamState(streamID), state != .stopped {
                // The session already failed or was never allowed to connect: still say the stream is over, once.
                await publisher.publish(.streamStopped(RTMSStopReasons.reason(reason ?? 0)), engagementID: instanceID, streamID: streamID)
            }
        }
    }
}
