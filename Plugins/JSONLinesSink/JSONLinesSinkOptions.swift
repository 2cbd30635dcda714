import RelayCore

/// The options of a `type: jsonl` sink, each declared once in `Declared` (`rtms-relay check-config` lists
/// them; `config.yaml.example` shows them in use).
public struct JSONLinesSinkOptions: SinkOptions, Encodable {
    /// What to write for audio frames.
    public enum Audio: String, Sendable, Codable, CaseIterable {
        case none, summary
    }

    public enum CodingKeys: String, CodingKey, Sendable {
        case path, audio
        case maxBytes = "max_bytes"
        case maxFiles = "max_files"
    }

    public enum Declared {
        public static let path = SinkOption<CodingKeys, String>(required: .path, "string", "file to append to; \"-\" writes to standard output")
        public static let audio = SinkOption(CodingKeys.audio, "none | summary", default: Audio.none, "also write one line per audio frame, without the PCM")
        public static let maxBytes = SinkOption(CodingKeys.maxBytes, "integer", default: 100 * 1024 * 1024, "rotate the file before it grows past this size")
        public static let maxFiles = SinkOption(CodingKeys.maxFiles, "integer", default: 5, "rotated files to keep (path.1 is the newest)")
    }

    public static let documentation = [Declared.path.documentation, Declared.audio.documentation, Declared.maxBytes.documentation, Declared.maxFiles.documentation]

    public var path: String
    public var audio: Audio
    public var maxBytes: Int
    public var maxFiles: Int

    /// True when writing to standard output instead of a file.
    public var isStandardOutput: Bool { path == "-" }

    public init(path: String, audio: Audio = Declared.audio.default, maxBytes: Int = Declared.maxBytes.default, maxFiles: Int = Declared.maxFiles.default) {
        self.path = path
        self.audio = audio
        self.maxBytes = maxBytes
        self.maxFiles = maxFiles
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decode(Declared.path)
        audio = try c.decode(Declared.audio)
        maxBytes = try c.decode(Declared.maxBytes)
        maxFiles = try c.decode(Declared.maxFiles)
        guard !path.isEmpty else { throw OptionError(key: "path", "must not be empty (use \"-\" for standard output)") }
        guard maxBytes >= 1024 else { throw OptionError(key: "max_bytes", "must be at least 1024, not \(maxBytes)") }
        guard maxFiles >= 1 else { throw OptionError(key: "max_files", "must be at least 1, not \(maxFiles)") }
    }
}
