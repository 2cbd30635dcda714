import Foundation
import GRDB
import NIOCore
import RelayCore

/// Reads archived events back, in the order they were archived, as the `StreamEvent`s the sinks saw:
/// the JSON form decoded, with the PCM of audio rows restored from their blob.
///
/// Events come in pages (`batchSize`) through an async sequence, so a replay of a long archive runs in
/// bounded memory and reads while the live relay keeps writing (WAL).
public struct ArchiveReader: Sendable {
    public let path: String
    private let pool: DatabasePool

    public init(path: String) throws {
        self.path = path
        pool = try ArchiveDatabase.openForReading(path: path)
    }

    /// Engagement ids in the archive, oldest first.
    public func engagementIDs() async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT engagement_id FROM engagements ORDER BY first_seen_ms, engagement_id")
        }
    }

    /// Whether the archive holds audio frames (of one engagement, or at all): only an archive written with
    /// `store_audio: true` does.
    public func hasAudio(engagement: String? = nil) async throws -> Bool {
        try await pool.read { db in
            if let engagement {
                return try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM events WHERE engagement_id = ? AND type = 'audio' AND pcm IS NOT NULL)", arguments: [engagement]) ?? false
            }
            return try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM events WHERE type = 'audio' AND pcm IS NOT NULL)") ?? false
        }
    }

    /// Events of one engagement (or all), oldest first, in batches of up to `batchSize`.
    public func events(engagement: String? = nil, batchSize: Int = 512) -> Events {
        Events(pool: pool, engagement: engagement, batchSize: batchSize)
    }

    /// The archived events as an async sequence of batches.
    public struct Events: AsyncSequence, Sendable {
        public typealias Element = [StreamEvent]
        let pool: DatabasePool
        let engagement: String?
        let batchSize: Int

        public func makeAsyncIterator() -> Iterator {
            Iterator(events: self)
        }

        public struct Iterator: AsyncIteratorProtocol {
            let events: Events
            var lastID: Int64 = 0
            var done = false

            public mutating func next() async throws -> [StreamEvent]? {
                guard !done else { return nil }
                let (lastID, engagement, limit) = (self.lastID, events.engagement, events.batchSize)
                let page = try await events.pool.read { db in
                    var sql = "SELECT id, json, pcm FROM events WHERE id > ?"
                    var arguments: StatementArguments = [lastID]
                    if let engagement {
                        sql += " AND engagement_id = ?"
                        arguments += [engagement]
                    }
                    sql += " ORDER BY id LIMIT ?"
                    arguments += [limit]
                    return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row -> (Int64, StreamEvent) in
                        let id: Int64 = row["id"]
                        let json: String = row["json"]
                        var event: StreamEvent
                        do {
                            event = try StreamEvent.decode(json: Data(json.utf8))
                        } catch {
                            throw ArchiveError.damagedEvent(id: id, "\(error)")
                        }
                        if case .audio(var frame) = event.kind, let pcm: Data = row["pcm"] {
                            frame.pcm = ByteBuffer(bytes: pcm)
                            event.kind = .audio(frame)
                        }
                        return (id, event)
                    }
                }
                guard let last = page.last else {
                    done = true
                    return nil
                }
                self.lastID = last.0
                if page.count < limit { done = true }
                return page.map(\.1)
            }
        }
    }
}
