import Foundation
import GRDB
import NIOConcurrencyHelpers
import RelayCore

/// A sink's spill log in one SQLite file (docs/writing-a-sink.md, "4. Queues and overflow"): table `events`,
/// one row per event in its JSON form, ordered by `id`.
///
/// SQLite rather than a file format of our own: every append is a transaction that survives a SIGKILL (WAL,
/// `synchronous = NORMAL`, as the archive), a torn write is rolled back rather than read as an event, and
/// pages are checksummed by the WAL's frame checksums. The file is made on the first append, so a sink that
/// never overflows leaves nothing on disk; a log emptied by its sink stays, empty, for the next overflow.
public final class SQLiteSpillLog: SpillLog {
    private struct Counts {
        var count = 0
        var bytes: Int64 = 0
        /// Row ids at the head and tail, for prepending below the first and appending above the last.
        var first: Int64 = 1
        var last: Int64 = 0
        var database: DatabaseQueue?
    }

    public let path: String
    private let state: NIOLockedValueBox<Counts>
    private let encoder = StreamEvent.jsonEncoder(pcm: .base64)

    /// Opens the log at `path` if it exists (reading its counts); otherwise it is created on the first append.
    public init(path: String) throws {
        self.path = path
        var counts = Counts()
        if FileManager.default.fileExists(atPath: path) {
            let database = try Self.open(path)
            try database.read { db in
                let row = try Row.fetchOne(db, sql: "SELECT COUNT(*), COALESCE(SUM(bytes), 0), COALESCE(MIN(id), 1), COALESCE(MAX(id), 0) FROM events")
                counts.count = row?[0] ?? 0
                counts.bytes = row?[1] ?? 0
                counts.first = row?[2] ?? 1
                counts.last = row?[3] ?? 0
            }
            counts.database = database
        }
        state = NIOLockedValueBox(counts)
    }

    /// The `SpillLogOpener` of the relay.
    public static let opener: SpillLogOpener = { try SQLiteSpillLog(path: $0) }

    private static func open(_ path: String) throws -> DatabaseQueue {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.label = "spill"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 67108864;")
        }
        let database = try DatabaseQueue(path: path, configuration: configuration)
        try database.write { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, bytes INTEGER NOT NULL, event BLOB NOT NULL)")
        }
        return database
    }

    public var count: Int { state.withLockedValue { $0.count } }
    public var bytes: Int64 { state.withLockedValue { $0.bytes } }

    private func database(_ counts: inout Counts) throws -> DatabaseQueue {
        if let database = counts.database { return database }
        let database = try Self.open(path)
        counts.database = database
        return database
    }

    /// Writes `rows` with ids `first`, `first + 1`, … in one transaction.
    private func insert(_ rows: [Data], from first: Int64, _ counts: inout Counts) throws {
        try database(&counts).write { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO events (id, bytes, event) VALUES (?, ?, ?)")
            for (offset, json) in rows.enumerated() {
                try insert.execute(arguments: [first + Int64(offset), json.count, json])
            }
        }
    }

    public func append(_ events: ArraySlice<StreamEvent>, maxBytes: Int64) throws -> Int {
        guard !events.isEmpty else { return 0 }
        return try state.withLockedValue { counts in
            var rows: [Data] = []
            var total = counts.bytes
            for event in events {
                let json = try encoder.encode(event)
                guard total + Int64(json.count) <= maxBytes else { break }
                total += Int64(json.count)
                rows.append(json)
            }
            guard !rows.isEmpty else { return 0 }
            let first = counts.last + 1
            try insert(rows, from: first, &counts)
            if counts.count == 0 { counts.first = first }
            counts.last = first + Int64(rows.count) - 1
            counts.count += rows.count
            counts.bytes = total
            return rows.count
        }
    }

    public func prepend(_ events: [StreamEvent]) throws {
        guard !events.isEmpty else { return }
        try state.withLockedValue { counts in
            let rows = try events.map { try encoder.encode($0) }
            let first = counts.count == 0 ? counts.last + 1 : counts.first - Int64(rows.count)
            try insert(rows, from: first, &counts)
            if counts.count == 0 { counts.last = first + Int64(rows.count) - 1 }
            counts.first = first
            counts.count += rows.count
            counts.bytes += rows.reduce(0) { $0 + Int64($1.count) }
        }
    }

    public func peek(max: Int) throws -> [StreamEvent] {
        try state.withLockedValue { counts in
            guard counts.count > 0, max > 0 else { return [] }
            return try database(&counts).read { db in
                let rows = try Row.fetchAll(db, sql: "SELECT id, event FROM events ORDER BY id LIMIT ?", arguments: [max])
                return try rows.map { row in
                    let json: Data = row[1]
                    do {
                        return try StreamEvent.decode(json: json)
                    } catch {
                        throw SpillLogError.damaged(id: row[0], path: path, "\(error)")
                    }
                }
            }
        }
    }

    public func removeFirst(_ count: Int) throws {
        guard count > 0 else { return }
        try state.withLockedValue { counts in
            let through = counts.first + Int64(Swift.min(count, counts.count)) - 1
            let removed = try database(&counts).write { db -> Int64 in
                let bytes = try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(bytes), 0) FROM events WHERE id <= ?", arguments: [through]) ?? 0
                try db.execute(sql: "DELETE FROM events WHERE id <= ?", arguments: [through])
                return bytes
            }
            counts.count -= Swift.min(count, counts.count)
            counts.bytes -= removed
            counts.first = through + 1
            if counts.count == 0 { counts.bytes = 0 }
        }
    }
}

/// Why the spill log could not be read.
public enum SpillLogError: Error, CustomStringConvertible {
    case damaged(id: Int64, path: String, String)

    public var description: String {
        switch self {
        case .damaged(let id, let path, let why): "event \(id) of the spill log \(path) cannot be read: \(why)"
        }
    }
}
