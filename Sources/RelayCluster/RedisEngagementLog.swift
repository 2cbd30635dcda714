import Foundation
import Logging
import RTMSIngest
import RedisClient
import RelayCore

/// The engagement registry's events in one Redis stream (`XADD {prefix}engagements MAXLEN ~ 100000`), which
/// every instance folds into its own `EngagementRegistry` before answering from it: all instances apply the same
/// events in the same order, so `/api/engagements` and `/api/engagement/active` agree, and an instance started
/// later learns the history from the stream.
///
/// While Redis is unreachable an instance records its own events locally only (the others do not see them).
actor RedisEngagementLog: EngagementLog {
    private let connection: RedisConnection
    private let key: String
    private let health: ClusterHealth
    private let logger: Logger
    private var lastID = "0-0"
    private var syncing = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    /// Entries kept in the stream (approximately): far more than the registry's 1,000 ended engagements need.
    static let maxLength = 100_000

    init(connection: RedisConnection, key: String, health: ClusterHealth, logger: Logger) {
        self.connection = connection
        self.key = key
        self.health = health
        self.logger = logger
    }

    nonisolated func append(_ event: StreamEvent) async -> Bool {
        guard health.isReachable, let json = try? event.jsonData() else { return false }
        var add = RedisCommand("XADD", [key, "MAXLEN", "~", "\(Self.maxLength)", "*", "event"])
        add.append(bytes: json)
        do {
            let reply = try await retryingOnce { try await connection.send(add) }
            return reply.errorMessage == nil
        } catch {
            health.unreachable(error, logger: logger)
            return false
        }
    }

    func catchUp(_ registry: EngagementRegistry) async {
        guard health.isReachable else { return }
        // One reader at a time: two interleaved reads from the same `lastID` would apply entries twice.
        while syncing { await withCheckedContinuation { waiting.append($0) } }
        syncing = true
        defer {
            syncing = false
            if !waiting.isEmpty { waiting.removeFirst().resume() }
        }
        do {
            while true {
                let reply = try await retryingOnce { try await connection.send("XREAD", "COUNT", "1000", "STREAMS", key, lastID) }
                // [[key, [[id, [field, value, …]], …]]] or nil when nothing is new.
                guard let entries = reply.array?.first?.array?.last?.array, !entries.isEmpty else { return }
                for entry in entries {
                    guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { continue }
                    lastID = id
                    guard let fields = parts[1].array, fields.count >= 2, case .bulk(let json) = fields[1],
                          let event = try? JSONDecoder().decode(StreamEvent.self, from: Data(json)) else {
                        logger.warning("unreadable engagement log entry skipped", metadata: ["id": "\(id)"])
                        continue
                    }
                    await registry.record(event)
                }
                if entries.count < 1000 { return }
            }
        } catch {
            health.unreachable(error, logger: logger)
        }
    }
}
