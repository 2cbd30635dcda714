import RelayCore

/// The options of a `type: sqlite` sink.
///
/// ```yaml
/// sinks:
///   archive:
///     type: sqlite
///     path: data/archive.sqlite
///     store_audio: false   # true: keep every audio frame's PCM, so `rtms-relay replay` can rebuild WAVs
///     retention: {days: 90} # delete calls older than 90 days (off when absent)
/// ```
public struct SQLiteSinkOptions: SinkOptions, Encodable {
    public var path = "data/archive.sqlite"
    public var storeAudio = false
    /// Calls last seen more than `retention.days` ago are deleted, with all their rows.
    public var retention = Retention()

    enum CodingKeys: String, CodingKey {
        case path, retention
        case storeAudio = "store_audio"
    }

    public init(path: String = "data/archive.sqlite", storeAudio: Bool = false, retention: Retention = Retention()) {
        self.path = path
        self.storeAudio = storeAudio
        self.retention = retention
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decodeIfPresent(String.self, forKey: .path) ?? path
        storeAudio = try c.decodeIfPresent(Bool.self, forKey: .storeAudio) ?? storeAudio
        retention = try c.decodeIfPresent(Retention.self, forKey: .retention) ?? retention
        guard !path.isEmpty else { throw OptionError(key: "path", "must not be empty") }
    }

    public static let documentation = [
        OptionDocumentation("path", "string", default: "data/archive.sqlite", "the SQLite archive (WAL mode; -wal and -shm files sit beside it)"),
        OptionDocumentation("store_audio", "bool", default: "false", "also store every audio frame's PCM as a blob (about 115 MB per party-hour at 16 kHz); needed to rebuild WAVs with replay"),
        Retention.documentation,
    ]
}
