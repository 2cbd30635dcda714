import Foundation
import Logging
import NIOConcurrencyHelpers
import RTMSIngest
import RedisClient
import RelayCore
import ServiceLifecycle
import ZoomAPI
import ZoomWebhooks

/// Cluster mode over one Redis (README.md, "Running several instances (cluster mode)"): several relay instances behind a load balancer share webhooks,
/// per-stream ownership leases, the engagement registry and a live event channel.
///
/// - Webhooks: each verified webhook is claimed once cluster-wide (`SET {prefix}webhook:<key> NX PX 2h`, the
///   receiver's dedupe window) and published on `{prefix}cluster:webhooks`, so every instance acts on it once.
/// - Leases: `SET {prefix}lease:<stream> <token> NX PX lease_ms`, renewed every third of `lease_ms` by the owner,
///   released with compare-and-delete when its session ends. Only the owner connects to Zoom.
/// - `{prefix}stream:<stream>`: the stream's latest `rtms_started`, for a takeover after the owner died.
/// - The registry: `RedisEngagementLog`; the live events: `ClusterEventRelay` and `{prefix}cluster:events`.
///
/// While Redis is unreachable the instance acts alone: webhooks Zoom sends it are handled locally, streams it
/// connects keep running (their leases are renewed again once Redis is back), registry events are recorded locally.
/// `/health` shows the `cluster` entry degraded with the reason, and the log says when Redis is lost and back.
public final class RedisCluster: IngestCluster, Service, Sendable {
    /// This process's id in the cluster (random per start).
    public let instanceID: String
    public let keys: ClusterKeys
    public let url: RedisURL
    public let leaseDuration: Duration
    public let engagementLog: any EngagementLog
    /// The hub member that relays this instance's events to the others (`/health` lists it as `cluster`).
    public let eventRelay: ClusterEventRelay
    let commands: RedisConnection
    let health: ClusterHealth
    /// Signs what this instance shares and checks what it reads (`cluster.secret`).
    let signer: ClusterMessageSigner
    let rejections: ClusterRejections
    private let logger: Logger
    private let leases = NIOLockedValueBox<[String: RedisLock.Token]>([:])
    private let remoteWebhooks: AsyncStream<SharedWebhook>
    private let remoteWebhooksContinuation: AsyncStream<SharedWebhook>.Continuation
    /// Other instances' event batches, for this instance's live views (the server feeds them to its hub's
    /// `publishRemote`). Apart from the subscription so that a slow live view never holds up shared webhooks; the
    /// newest batches win if it falls far behind. It finishes when the cluster shuts down.
    public let remoteEvents: AsyncStream<[StreamEvent]>
    private let remoteEventsContinuation: AsyncStream<[StreamEvent]>.Continuation
    /// How long a webhook claim is kept: the receiver's dedupe window (Zoom's last retry comes after 85 minutes).
    static let webhookClaimMilliseconds: Int64 = 2 * 3600 * 1000
    /// How long a stream's details are kept if its stop never arrives.
    static let streamDetailsSeconds = 24 * 3600
    /// Heartbeat on this instance's channel; the subscription's reads time out after three missed ones.
    static let heartbeat = Duration.seconds(1)
    /// Shared webhooks and events older than this are refused as replays (pub/sub delivers within milliseconds).
    static let messageMaxAgeMillis: Int64 = 5 * 60 * 1000

    /// The cluster's Redis URL, or the `ConfigError` naming `cluster.redis_url` for one that cannot be used.
    public static func url(of configuration: RelayConfiguration) throws -> RedisURL {
        do {
            return try RedisURL(configuration.cluster.redisURL.value)
        } catch {
            throw configuration.error(at: "cluster.redis_url", "\(error)")
        }
    }

    /// Throws `ConfigError` for a `cluster.redis_url` it cannot use. Connects lazily (in `run()`).
    public init(configuration: RelayConfiguration, logger: Logger) throws {
        let settings = configuration.cluster
        url = try Self.url(of: configuration)
        instanceID = String(UUID().uuidString.prefix(8)).lowercased()
        keys = ClusterKeys(prefix: settings.keyPrefix)
        leaseDuration = .milliseconds(settings.leaseMilliseconds)
        commands = RedisConnection(url: url, connectTimeout: .seconds(1), commandTimeout: .seconds(2))
        var logger = logger
        logger[metadataKey: "instance"] = "\(instanceID)"
        self.logger = logger
        let context = SinkContext(id: "cluster", logger: logger)
        health = ClusterHealth(context: context, url: url)
        signer = ClusterMessageSigner(secret: settings.secret)
        rejections = ClusterRejections(context: context)
        engagementLog = RedisEngagementLog(connection: commands, key: keys.engagements, health: health, logger: logger)
        eventRelay = ClusterEventRelay(
            connection: RedisConnection(url: url, connectTimeout: .seconds(1), commandTimeout: .seconds(2)),
            channel: keys.eventsChannel, origin: instanceID, relayAudio: settings.relayAudio, health: health, signer: signer, context: context
        )
        (remoteWebhooks, remoteWebhooksContinuation) = AsyncStream.makeStream(of: SharedWebhook.self)
        (remoteEvents, remoteEventsContinuation) = AsyncStream.makeStream(of: [StreamEvent].self, bufferingPolicy: .bufferingNewest(1000))
    }

    /// The hub member for `eventRelay`: a live view's queue (the newest events win when Redis is slow).
    public var eventRelayMember: EventHub.Member {
        EventHub.Member(id: "cluster", typeName: "cluster", policy: QueuePolicy(capacity: 10_000, overflow: .dropOldest),
                        sink: eventRelay, context: eventRelay.context)
    }

    // MARK: Service

    /// Subscribes to the cluster's channels, renews this instance's leases and watches Redis, until shutdown.
    public func run() async throws {
        logger.info("cluster mode", metadata: ["redis": "\(url)", "lease": "\(leaseDuration)"])
        do {
            try await commands.connect()
            health.reachable()
        } catch {
            health.unreachable(error, logger: logger)
        }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.subscribe() }
                group.addTask { await self.tick() }
                await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.remoteWebhooksContinuation.finish()
            self.remoteEventsContinuation.finish()
        }
    }

    /// Heartbeats and lease renewals.
    private func tick() async {
        var lastRenewal = ContinuousClock.now
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await retryingOnce { try await commands.send("PUBLISH", keys.instanceChannel(instanceID), "heartbeat") }
                health.reachable(logger: logger)
            } catch {
                health.unreachable(error, logger: logger)
            }
            if ContinuousClock.now - lastRenewal >= leaseDuration / 3 {
                lastRenewal = .now
                await renewLeases()
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: min(Self.heartbeat, self.leaseDuration / 3)) }
        }
        // Wake the subscription so that it sees the shutdown at once.
        _ = try? await commands.send("PUBLISH", keys.instanceChannel(instanceID), "bye")
    }

    private func renewLeases() async {
        guard health.isReachable else { return }
        for (streamID, token) in leases.withLockedValue({ $0 }) {
            let lock = lease(streamID)
            do {
                if try await retryingOnce({ try await lock.renew(token) }) { continue }
                // Released meanwhile (the session ended): nothing to keep.
                guard leases.withLockedValue({ $0[streamID] == token }) else { continue }
                // Lapsed (Redis was unreachable for longer than the lease, or restarted empty): take it again if free.
                if let fresh = try await lock.tryAcquire() {
                    let kept = leases.withLockedValue { leases in
                        guard leases[streamID] == token else { return false }
                        leases[streamID] = fresh
                        return true
                    }
                    if !kept {
                        try await lock.release(fresh)
                        continue
                    }
                    logger.warning("ownership lease had lapsed; taken again", metadata: ["rtms_stream_id": "\(streamID)"])
                } else {
                    leases.withLockedValue { _ = $0.removeValue(forKey: streamID) }
                    logger.error("ownership lease lost to another instance while this one is still connected",
                                 metadata: ["rtms_stream_id": "\(streamID)"])
                }
            } catch {
                health.unreachable(error, logger: logger)
                return
            }
        }
    }

    /// Reads the webhook and event channels on a connection of its own, reconnecting with backoff.
    private func subscribe() async {
        var delay = Duration.milliseconds(200)
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let connection = RedisConnection(url: url, connectTimeout: .seconds(1), commandTimeout: Self.heartbeat * 3)
            do {
                try await connection.write([RedisCommand("SUBSCRIBE", [keys.webhooksChannel, keys.eventsChannel, keys.instanceChannel(instanceID)])])
                delay = .milliseconds(200)
                while !Task.isCancelled, !Task.isShuttingDownGracefully {
                    let reply = try await connection.receive()
                    guard let parts = reply.array, parts.count == 3, parts[0].string == "message",
                          let channel = parts[1].string, case .bulk(let payload) = parts[2] else { continue }
                    received(payload, on: channel)
                }
            } catch {
                health.unreachable(error, logger: logger)
            }
            await connection.close()
            try? await cancelWhenGracefulShutdown { [delay] in try await Task.sleep(for: delay) }
            delay = min(delay * 2, .seconds(5))
        }
    }

    private func received(_ message: [UInt8], on channel: String) {
        guard channel == keys.webhooksChannel || channel == keys.eventsChannel else { return }
        let payload: [UInt8]
        do {
            payload = try signer.open(message, purpose: channel, maxAgeMillis: Self.messageMaxAgeMillis)
        } catch {
            rejections.record(error, where: channel, logger: logger)
            return
        }
        do {
            if channel == keys.webhooksChannel {
                let message = try JSONDecoder().decode(SharedWebhookMessage.self, from: Data(payload))
                guard message.origin != instanceID else { return }
                remoteWebhooksContinuation.yield(SharedWebhook(event: message.event, isLocal: false))
            } else if channel == keys.eventsChannel {
                let message = try JSONDecoder().decode(RelayedEventsMessage.self, from: Data(payload))
                guard message.origin != instanceID else { return }
                remoteEventsContinuation.yield(message.events)
            }
        } catch {
            logger.warning("unreadable cluster message ignored", metadata: ["channel": "\(channel)", "error": "\(error)"])
        }
    }

    // MARK: IngestCluster

    public func shareWebhooks(_ local: AsyncStream<ZoomWebhookEvent>, deliver: @escaping @Sendable (SharedWebhook) -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in local where await self.claim(event) {
                    deliver(SharedWebhook(event: event, isLocal: true))
                }
            }
            group.addTask {
                for await shared in self.remoteWebhooks { deliver(shared) }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Claims a webhook cluster-wide and shares it; false for a delivery another instance already claimed.
    /// Without Redis the webhook is handled here alone.
    private func claim(_ event: ZoomWebhookEvent) async -> Bool {
        guard health.isReachable else { return true }
        do {
            let key = keys.webhook(event.clusterDedupeKey)
            switch try await retryingOnce({ try await commands.send("SET", key, instanceID, "NX", "PX", "\(Self.webhookClaimMilliseconds)") }) {
            case .status("OK"): break
            case .null where try await commands.send("GET", key).string == instanceID:
                break  // Our own claim, whose first reply was lost.
            case .null:
                logger.debug("webhook already handled by another instance", metadata: ["key": "\(event.clusterDedupeKey)"])
                return false
            case let reply: throw RedisError.unexpectedReply("SET NX on \(key): \(reply)")
            }
            var publish = RedisCommand("PUBLISH", [keys.webhooksChannel])
            publish.append(bytes: signer.seal(try JSONEncoder().encode(SharedWebhookMessage(origin: instanceID, event: event)), purpose: keys.webhooksChannel))
            try await retryingOnce { try await commands.send(publish) }
        } catch {
            health.unreachable(error, logger: logger)
        }
        return true
    }

    public func remember(_ descriptor: RTMSStreamDescriptor) async {
        guard let json = try? JSONEncoder().encode(descriptor) else { return }
        let key = keys.stream(descriptor.streamID)
        var set = RedisCommand("SET", [key])
        set.append(bytes: signer.seal(json, purpose: key))
        set.append("EX")
        set.append("\(Self.streamDetailsSeconds)")
        await attempt { [set] in try await self.commands.send(set) }
    }

    public func descriptor(streamID: String) async -> RTMSStreamDescriptor? {
        let key = keys.stream(streamID)
        guard let reply = await attempt({ try await self.commands.send("GET", key) }), case .bulk(let sealed) = reply else { return nil }
        let json: [UInt8]
        do {
            // Kept for a day, so no age limit; the key is signed in, so details cannot move to another stream.
            json = try signer.open(sealed, purpose: key, maxAgeMillis: nil)
        } catch {
            rejections.record(error, where: key, logger: logger)
            return nil
        }
        guard let descriptor = try? JSONDecoder().decode(RTMSStreamDescriptor.self, from: Data(json)), descriptor.streamID == streamID else { return nil }
        return descriptor
    }

    public func acquire(streamID: String) async -> LeaseClaim {
        guard health.isReachable else { return .unavailable }
        do {
            // A lost reply after the lease was set reads as "held" (by this instance's unknown token); it lapses and is
            // retried like any held lease.
            if let token = try await retryingOnce({ try await lease(streamID).tryAcquire() }) {
                leases.withLockedValue { $0[streamID] = token }
                logger.info("ownership lease taken", metadata: ["rtms_stream_id": "\(streamID)"])
                return .acquired
            }
            let remaining = try await commands.send("PTTL", keys.lease(streamID)).integer ?? 0
            return .held(remaining: .milliseconds(max(0, remaining)))
        } catch {
            health.unreachable(error, logger: logger)
            return .unavailable
        }
    }

    public func release(streamID: String, ended: Bool) async {
        let token = leases.withLockedValue { $0.removeValue(forKey: streamID) }
        if let token { await attempt { try await self.lease(streamID).release(token) } }
        if ended { await attempt { try await self.commands.send("DEL", self.keys.stream(streamID)) } }
    }

    public func forget(streamID: String) async -> Bool {
        await attempt { try await self.commands.send("DEL", self.keys.stream(streamID)) }
        return await attempt({ try await self.commands.send("EXISTS", self.keys.lease(streamID)) })?.integer == 1
    }

    /// OAuth logins kept in Redis too, so that Zoom's callback may reach any instance.
    public func makePendingLogins() -> PendingLogins {
        PendingLogins(shared: (commands, keys.loginPrefix))
    }

    /// Cluster messages refused so far (unsigned, badly signed or replayed); `/health` shows it as
    /// `cluster.counts.rejected_messages`.
    public var rejectedMessages: UInt64 { rejections.count }

    /// Streams whose lease this instance holds.
    public var ownedStreams: Set<String> { leases.withLockedValue { Set($0.keys) } }

    private func lease(_ streamID: String) -> RedisLock {
        RedisLock(connection: commands, key: keys.lease(streamID), ttl: leaseDuration)
    }

    /// Runs one Redis call unless Redis is known to be down; a failure marks it down. Nil when skipped or failed.
    @discardableResult
    private func attempt<T: Sendable>(_ body: @Sendable () async throws -> T) async -> T? {
        guard health.isReachable else { return nil }
        do {
            return try await retryingOnce(body)
        } catch {
            health.unreachable(error, logger: logger)
            return nil
        }
    }
}

/// Whether the cluster's Redis answers, shown on `/health` as the `cluster` entry and logged on every change.
/// Calls skip Redis while it is unreachable (so a dead Redis costs no timeouts on the ingest path) until the
/// next heartbeat gets through.
final class ClusterHealth: Sendable {
    let context: SinkContext
    let url: RedisURL
    private let state = NIOLockedValueBox(true)

    init(context: SinkContext, url: RedisURL) {
        self.context = context
        self.url = url
    }

    var isReachable: Bool { state.withLockedValue { $0 } }

    func reachable(logger: Logger? = nil) {
        let was = state.withLockedValue { was in
            defer { was = true }
            return was
        }
        guard !was else { return }
        context.reportHealth(.ok)
        logger?.info("cluster Redis reachable again: shared webhooks, leases and registry resume", metadata: ["redis": "\(url)"])
    }

    func unreachable(_ error: any Error, logger: Logger) {
        let was = state.withLockedValue { was in
            defer { was = false }
            return was
        }
        context.reportHealth(.degraded("cluster Redis at \(url.host):\(url.port) unreachable (\(error)); running streams go on, "
            + "webhooks are handled by the instance they reach, retrying"))
        if was {
            logger.error("cluster Redis unreachable: this instance acts alone until it is back", metadata: ["error": "\(error)", "redis": "\(url)"])
        }
    }
}
