import RelayCore

/// The options of a `type: sqlite` sink, each declared once in `Declared` (`rtms-relay check-config` lists
/// them; `config.yaml.example` shows them in use).
public struct SQLiteSinkOptions: SinkOptions, Encodable {
    public enum CodingKeys: String, CodingKey, Sendable {
        case path, retention
        case storeAudio = "store_audio"
    }

    public enum Declared {
        public static let path = SinkOption(CodingKeys.path, "string", default: "data/archive.sqlite", "the SQLite archive (WAL mode; -wal and -shm files sit beside it)")
        public static let storeAudio = SinkOption(CodingKeys.storeAudio, "bool", default: false,
            "also store every audio frame's PCM as a blob (about 115 MB per party-hour at 16 kHz); needed to rebuild WAVs with replay")
        public static let retention = SinkOption(CodingKeys.retention, "{days: integer}", default: Retention(), shown: "off", Retention.help)
    }

    public static let documentation = [Declared.path.documentation, Declared.storeAudio.documentation, Declared.retention.documentation]

    public var path: String
    public var storeAudio: Bool
    /// Calls last seen more than `retention.days` ago are deleted, with all their rows.
    public var retention: Retention

    public init(path: String = Declared.path.default, storeAudio: Bool = Declared.storeAudio.default, retention: Retention = Declared.retention.default) {
        self.path = path
        self.storeAudio = storeAudio
        self.retention = retention
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decode(Declared.path)
        storeAudio = try c.decode(Declared.storeAudio)
        retention = try c.decode(Declared.retention)
        guard !path.isEmpty else { throw OptionError(key: "path", "must not be empty") }
    }
}
