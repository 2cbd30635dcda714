import Foundation
import RedisClient
import RelayCore
import ServiceLifecycle

/// Puts events on Redis for other programs (README.md, "Redis keys"):
///
/// - `PUBLISH {prefix}events <event JSON>` for every non-audio event (live consumers);
/// - `XADD {prefix}stream:{engagement_id} MAXLEN ~ {max_len} * type <type> id <event id> event <event JSON>` for
///   every event — audio frames too with `audio: true`, their PCM base64 inside the JSON (`pcm`), the same form
///   every text sink writes.
///
/// Each batch from the hub goes out as one Lua script (`EVAL`), which skips the events Redis already has: the
/// hash `{prefix}delivered` keeps, per hub (`StreamEvent.origin`), the highest `seq` written, and the hub queues
/// events in `seq` order. So a batch sent again — its reply lost with the connection, or read again from the
/// spill log after a crash — is written once. `consume` returns when Redis has run the batch.
/// While Redis is unreachable the batch is retried with backoff (100 ms doubling to 5 s) and `degraded` is
/// reported on `/health`; meanwhile the hub's queue holds what arrives (on disk with `overflow: spill`, this
/// sink's default), so everything is delivered in order once Redis is back. During a graceful shutdown the
/// sink stops waiting for Redis: a batch that cannot be sent then fails at once, so a dead Redis never holds
/// the relay's exit hostage (with `spill` the hub keeps that batch and the queue on disk for the next run).
///
/// While nothing is due to Redis (no call, or only audio with `audio: false`), the sink PINGs it every
/// `health_interval_seconds` from its tick, so `/health` turns degraded within that interval of Redis dying
/// and back to ok when a PING answers again.
public actor RedisSink: SinkPlugin {
    public static let typeName = "redis"
    public static let summary = "publishes events on {prefix}events and appends them to one Redis stream per engagement"
    /// Storage: an overflowing queue goes to disk rather than losing events.
    public static let defaultOverflow = QueuePolicy.Overflow.spill

    private let options: RedisSinkOptions
    private let context: SinkContext
    private let connection: RedisConnection
    private let encoder: JSONEncoder
    private let channel: String
    private let maxLength: String
    private var isDegraded = false
    /// The hash of the highest `seq` written per hub.
    private let deliveredKey: String
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
        deliveredKey = options.keyPrefix + "delivered"
        maxLength = String(options.maxLength)
        healthInterval = .milliseconds(Int64(options.healthIntervalSeconds * 1000))
    }

    public nonisolated var tickInterval: Duration? { healthInterval }
    /// Without `audio: true` the hub does not hand this sink audio frames at all.
    public nonisolated var interests: EventInterests { options.audio ? .all : .allButAudio }

    /// PINGs Redis when nothing answered for `health_interval_seconds` (the hub never ticks during a `consume`,
    /// which reports Redis's health itself, retrying).
    public func tick() async throws {
        guard !abandoned, ContinuousClock.now - lastAnswer >= healthInterval else { return }
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
        guard !events.isEmpty else { return }
        try await deliver(script(for: events))
    }

    public func finish() async throws {
        await connection.close()
    }

    /// Writes a batch, skipping events whose `seq` is not above the hub's high-water mark in `KEYS[1]`. Arguments:
    /// the channel, MAXLEN, then six per event: origin (hex, empty: not stamped, never skipped), seq, stream key,
    /// type, whether to PUBLISH, JSON. Returns how many events it wrote.
    static let deliverScript = """
        local marks, written = {}, 0
        for i = 3, #ARGV, 6 do
          local origin, seq = ARGV[i], tonumber(ARGV[i + 1])
          if origin ~= '' and marks[origin] == nil then
            marks[origin] = tonumber(redis.call('HGET', KEYS[1], origin) or '0')
          end
          if origin == '' or seq > marks[origin] then
            if ARGV[i + 4] == '1' then redis.call('PUBLISH', ARGV[1], ARGV[i + 5]) end
            local id = origin == '' and '' or (origin .. '-' .. ARGV[i + 1])
            redis.call('XADD', ARGV[i + 2], 'MAXLEN', '~', ARGV[2], '*', 'type', ARGV[i + 3], 'id', id, 'event', ARGV[i + 5])
            if origin ~= '' then marks[origin] = seq end
            written = written + 1
          end
        end
        for origin, seq in pairs(marks) do redis.call('HSET', KEYS[1], origin, string.format('%d', seq)) end
        return written
        """

    /// The `EVAL` of `deliverScript` for a batch.
    func script(for events: [StreamEvent]) throws -> RedisCommand {
        var command = RedisCommand("EVAL", [Self.deliverScript, "1", deliveredKey, channel, maxLength])
        for event in events {
            let isAudio = if case .audio = event.kind { true } else { false }
            let json = try encoder.encode(event)
            command.append(event.origin == 0 ? "" : String(event.origin, radix: 16))
            command.append(String(event.seq))
            command.append(options.keyPrefix + "stream:" + event.engagementID)
            command.append(event.type.rawValue)
            command.append(isAudio ? "0" : "1")
            command.append(bytes: json)
        }
        return command
    }

    /// Runs `command` until Redis has, retrying while Redis is unreachable or loading (the script skips what an
    /// earlier attempt already wrote).
    private func deliver(_ command: RedisCommand) async throws {
        if abandoned { throw RedisSinkError.unavailableAtShutdown }
        var delay = Self.initialRetryDelay
        while true {
            do {
                let reply = try await connection.send(command)
                if reply.isTransientError {
                    // Redis is loading its data after a restart (or similar): wait and go again.
                    degrade(RedisError.unexpectedReply(reply.errorMessage ?? ""), retryIn: delay)
                } else if let refused = reply.errorMessage {
                    context.reportHealth(.degraded("Redis refused a batch: \(refused)"))
                    isDegraded = true
                    throw RedisSinkError.refused(refused)
                } else {
                    break
                }
            } catch let error as RedisError where error.isConnectionFailure {
                degrade(error, retryIn: delay)
            }
            if Task.isShuttingDownGracefully {
                abandoned = true
                throw RedisSinkError.unavailableAtShutdown
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
    /// Redis refused the batch's script (e.g. a `WRONGTYPE` key under the prefix); events before the refused
    /// command were written.
    case refused(String)
    /// Redis was unreachable while the relay shut down; the batch was not sent.
    case unavailableAtShutdown

    var description: String {
        switch self {
        case .refused(let first): "Redis refused a batch: \(first) (is another program using keys under this key_prefix?)"
        case .unavailableAtShutdown: "Redis unreachable during shutdown; the batch was not sent"
        }
    }
}
