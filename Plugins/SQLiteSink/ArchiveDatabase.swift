import Foundation
import GRDB

/// Opens the archive: WAL mode, the connection settings below, and the schema migrated to the latest version.
///
/// Durability vs speed, chosen for "a crash loses at most the last batch":
/// - `journal_mode = WAL` (GRDB's `DatabasePool` sets it): a writer never blocks readers (replay, ad-hoc
///   `sqlite3` queries while recording), and a commit is one sequential append to the `-wal` file.
/// - `synchronous = NORMAL`: in WAL mode a commit is not fsync'ed, only checkpoints are. A committed batch
///   survives a crash or SIGKILL of the relay (it is in the OS page cache); only a power loss or kernel
///   crash can lose the last commits, never corrupt the file. `FULL` would fsync every batch: several
///   milliseconds each on ordinary disks, for a guarantee the audio path does not need.
/// - `wal_autocheckpoint = 1000` pages (SQLite's default, ~4 MB) and `journal_size_limit = 64 MB`: the WAL
///   is folded back regularly and truncated after, so it does not grow without bound under constant writes.
/// - `foreign_keys = ON` (GRDB's default), `busy_timeout` 5 s: another process (a replay, a backup) holding a
///   lock briefly delays a batch instead of failing it.
/// - `temp_store = MEMORY`: sorts and temporary indices never touch the disk.
enum ArchiveDatabase {
    static func open(path: String) throws -> DatabasePool {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.label = "archive"
        configuration.prepareDatabase { db in
            try db.execute(sql: """
                PRAGMA synchronous = NORMAL;
                PRAGMA journal_size_limit = 67108864;
                PRAGMA wal_autocheckpoint = 1000;
                PRAGMA temp_store = MEMORY;
                """)
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        try ArchiveSchema.migrator.migrate(pool)
        return pool
    }

    /// Opens an existing archive for reading only (replay), without migrating it.
    static func openForReading(path: String) throws -> DatabasePool {
        guard FileManager.default.fileExists(atPath: path) else { throw ArchiveError.noArchive(path) }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        return try DatabasePool(path: path, configuration: configuration)
    }
}

/// Why the archive could not be used.
public enum ArchiveError: Error, CustomStringConvertible {
    case noArchive(String)
    case unknownEngagement(String, String)
    case damagedEvent(id: Int64, String)
    /// The archive could not be written for so long that the rows kept for it were given up.
    case backlogDropped(String)
    /// A sink that writes audio files was to be fed an archive without audio.
    case noAudio(sink: String, path: String)

    public var description: String {
        switch self {
        case .noArchive(let path): "\(path): no such archive"
        case .unknownEngagement(let id, let path): "engagement '\(id)' is not in \(path)"
        case .damagedEvent(let id, let reason): "archived event \(id) cannot be read: \(reason)"
        case .backlogDropped(let message): message
        case .noAudio(let sink, let path):
            "\(path) holds no audio (its sqlite sink ran without store_audio: true), so sink '\(sink)' cannot rebuild recordings from it; leave it out (--sink to choose the sinks), or archive with store_audio: true"
        }
    }
}
