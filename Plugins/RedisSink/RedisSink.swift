import Foundation
import RedisClient
import RelayCore
import ServiceLifecycle

/// Puts events on Redis for other programs (README.md, "Redis keys"):
///
/// - `PUBLISH {prefix}events <event JSON>` for every non-audio event (live consumers);
/// - `XADD {prefix}stream:{engagement_id} MAXLEN ~ {max_len} * type <type> event <event JSON>` for every
///   event — audio frames too with `audio: true`, their PCM base64 inside the JSON (`pcm`), the same form
///   every text sink writes.
///
/// Each batch from the hub goes out as one pipeline, and one pipeline is in flight while the next batch is
/// encoded (`consume` returns once its batch is on its way; the next `consume`, or `finish`, waits for it —
/// so the hub's `delivered` counter runs at most one batch ahead of Redis).
/// While Redis is unreachable the in-flight batch is retried with backoff (100 ms doubling to 5 s) and
/// `degraded` is reported on `/health`; the hub's queue holds what arrives meanwhile, so nothing is lost
/// within its capacity and everything is delivered in order once Redis is back. Delivery is
/// at-least-once: commands whose replies never arrived are sent again. During a graceful shutdown the sink
/// stops waiting for Redis: a batch that cannot be sent then fails at once (counted by the hub), so a dead
/// Redis never holds the relay's exit hostage.
///
/// While nothing is due to Redis (no call, or only audio with `audio: false`), the sink PINGs it every
/// `health_interval_seconds` from its tick, so `/health` turns degraded within that interval of Redis dying
/// and back to ok when a PING answers again.
public actor RedisSink: SinkPlugin {
    public static let typeName = "redis"
    public static let summary = "publishes events on {prefix}events and appends them to one Redis stream per engagement"

    private let options: RedisSinkOptions
    private let context: SinkContext
    private let connection: RedisConnection
    private let encoder: JSONEncoder
    private let channel: String
    private let maxLength: String
    private var isDegraded = false
    /// The batch on the wire. Awaited by the next `consume` and by `finish`, cancelled with them.
    private var inFlight: Task<Void, any Error>?
    /// Set when Redis failed during a graceful shutdown: the remaining batches fail without trying.
    private var abandoned = false
    /// When Redis last answered (a batch or a PING).
    private var lastAnswer = ContinuousClock.now
    private let healthInterval: Duration
    /// Retry delays while Redis is unreachable.
    static let initialRetryDelay = Duration.milliseconds(100)
    static let maximumRetryDelay = Duration.seconds(5)

    public init(options: RedisSinkOptions, context: SinkContext) throws {
        let url: RedisURL
        do {
            url = try RedisURL(options.url.value)
        } catch {
            throw OptionError(key: "url", "\(error)")
        }
        self.options = options
        self.context = context
        connection = RedisConnection(url: url)
        encoder = StreamEvent.jsonEncoder(pcm: .base64)
        channel = options.keyPrefix + "events"
        maxLength = String(options.maxLength)
        healthInterval = .milliseconds(Int64(options.healthIntervalSeconds * 1000))
    }

    public nonisolated var tickInterval: Duration? { healthInterval }
    /// Without `audio: true` the hub does not hand this sink audio frames at all.
    public nonisolated var interests: EventInterests { options.audio ? .all : .allButAudio }

    /// PINGs Redis when nothing answered for `health_interval_seconds` and no batch is on its way (a batch in
    /// flight reports Redis's health itself, retrying).
    public func tick() async throws {
        guard inFlight == nil, !abandoned, ContinuousClock.now - lastAnswer >= healthInterval else { return }
        do {
            let reply = try await connection.send("PING")
            if let message = reply.errorMessage, reply.isTransientError { throw RedisError.unexpectedReply(message) }
            answered()
        } catch {
            degrade(error, retryIn: healthInterval)
            // The next PING connects again.
            await connection.close()
        }
    }

    private func answered() {
        lastAnswer = .now
        guard isDegraded else { return }
        isDegraded = false
        context.reportHealth(.ok)
        context.logger.info("Redis reachable again", metadata: ["redis": "\(connection.url)"])
    }

    /// Connects early to report an unreachable Redis on `/health`; never fails, as `consume` retries.
    public func start() async throws {
        do {
            try await connection.connect()
        } catch {
            degrade(error, retryIn: Self.initialRetryDelay)
        }
    }

    public func consume(_ events: [StreamEvent]) async throws {
        let commands = try commands(for: events)
        guard !commands.isEmpty else { return }
        let previous = try await settleInFlight()
        inFlight = Task { try await self.deliver(commands) }
        // A batch Redis refused surfaces here, one batch late; this batch is already on its way.
        try previous.get()
    }

    public func finish() async throws {
        let last = try await settleInFlight()
        await connection.close()
        try last.get()
    }

    /// Waits for the batch in flight (cancelling it if this task is cancelled, e.g. on a forced shutdown).
    private func settleInFlight() async throws -> Result<Void, any Error> {
        guard let previous = inFlight else { return .success(()) }
        inFlight = nil
        let result = await withTaskCancellationHandler { await previous.result } onCancel: { previous.cancel() }
        try Task.checkCancellation()
        return result
    }

    /// The commands for a batch: per event, PUBLISH (non-audio) then XADD.
    func commands(for events: [StreamEvent]) throws -> [RedisCommand] {
        var commands: [RedisCommand] = []
        commands.reserveCapacity(events.count * 2)
        for event in events {
            let isAudio = if case .audio = event.kind { true } else { false }
            let json = try encoder.encode(event)
            if !isAudio {
                var publish = RedisCommand("PUBLISH", [channel])
                publish.append(bytes: json)
                commands.append(publish)
            }
            var add = RedisCommand("XADD", [options.keyPrefix + "stream:" + event.engagementID, "MAXLEN", "~", maxLength, "*", "type", event.type.rawValue, "event"])
            add.reserveCapacity(json.count + 128)
            add.append(bytes: json)
            commands.append(add)
        }
        return commands
    }

    /// Sends `commands` until every one has run, resending from the first one whose reply did not arrive.
    private func deliver(_ commands: [RedisCommand]) async throws {
        if abandoned { throw RedisSinkError.unavailableAtShutdown(commands: commands.count) }
        var pending = commands[...]
        var delay = Self.initialRetryDelay
        while !pending.isEmpty {
            do {
                let replies = try await connection.pipeline(Array(pending))
                if let index = replies.firstIndex(where: \.isTransientError) {
                    // Redis is loading its data after a restart (or similar): the rest waits and goes again.
                    pending = pending.dropFirst(index)
                    degrade(RedisError.unexpectedReply(replies[index].errorMessage ?? ""), retryIn: delay)
                } else {
                    pending = []
                    let refused = replies.compactMap(\.errorMessage)
                    if let first = refused.first {
                        context.reportHealth(.degraded("Redis refused \(refused.count) command(s): \(first)"))
                        isDegraded = true
                        throw RedisSinkError.refused(count: refused.count, first: first)
                    }
                    continue
                }
            } catch let error as RedisError where error.isConnectionFailure {
                if case .connection(_, let repliesRead) = error { pending = pending.dropFirst(repliesRead) }
                degrade(error, retryIn: delay)
            }
            if Task.isShuttingDownGracefully {
                abandoned = true
                throw RedisSinkError.unavailableAtShutdown(commands: pending.count)
            }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, Self.maximumRetryDelay)
        }
        answered()
    }

    private func degrade(_ error: any Error, retryIn delay: Duration) {
        let reason = "Redis at \(connection.url.host):\(connection.url.port) unavailable (\(error)); holding events in the queue, retrying"
        if !isDegraded {
            context.logger.warning("Redis unavailable; holding events in the queue and retrying", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
        }
        isDegraded = true
        context.reportHealth(.degraded(reason))
    }
}

/// Why the Redis sink gave up on a batch.
enum RedisSinkError: Error, CustomStringConvertible {
    /// Redis executed the batch but refused some commands (e.g. a `WRONGTYPE` key under the prefix).
    case refused(count: Int, first: String)
    /// Redis was unreachable while the relay shut down; these commands were not sent.
    case unavailableAtShutdown(commands: Int)

    var description: String {
        switch self {
        case .refused(let count, let first): "Redis refused \(count) command(s): \(first) (is another program using keys under this key_prefix?)"
        case .unavailableAtShutdown(let count): "Redis unreachable during shutdown; \(count) command(s) not sent"
        }
    }
}
