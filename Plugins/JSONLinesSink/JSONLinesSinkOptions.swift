import RelayCore

/// The options of a `type: jsonl` sink.
///
/// ```yaml
/// sinks:
///   audit:
///     type: jsonl
///     path: data/events.jsonl   # or "-" for standard output
///     audio: none               # none | summary (one line per frame, without the PCM)
///     max_bytes: 104857600      # rotate when the file would grow past this
///     max_files: 5              # keep events.jsonl.1 … .5
/// ```
public struct JSONLinesSinkOptions: SinkOptions, Encodable {
    /// What to write for audio frames.
    public enum Audio: String, Sendable, Codable, CaseIterable {
        case none, summary
    }

    public var path: String
    public var audio = Audio.none
    public var maxBytes = 100 * 1024 * 1024
    public var maxFiles = 5

    /// True when writing to standard output instead of a file.
    public var isStandardOutput: Bool { path == "-" }

    enum CodingKeys: String, CodingKey {
        case path, audio
        case maxBytes = "max_bytes"
        case maxFiles = "max_files"
    }

    public init(path: String, audio: Audio = .none, maxBytes: Int = 100 * 1024 * 1024, maxFiles: Int = 5) {
        self.path = path
        self.audio = audio
        self.maxBytes = maxBytes
        self.maxFiles = maxFiles
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decode(String.self, forKey: .path)
        audio = try c.decodeIfPresent(Audio.self, forKey: .audio) ?? audio
        maxBytes = try c.decodeIfPresent(Int.self, forKey: .maxBytes) ?? maxBytes
        maxFiles = try c.decodeIfPresent(Int.self, forKey: .maxFiles) ?? maxFiles
        guard !path.isEmpty else { throw OptionError(key: "path", "must not be empty (use \"-\" for standard output)") }
        guard maxBytes >= 1024 else { throw OptionError(key: "max_bytes", "must be at least 1024, not \(maxBytes)") }
        guard maxFiles >= 1 else { throw OptionError(key: "max_files", "must be at least 1, not \(maxFiles)") }
    }

    public static let documentation = [
        OptionDocumentation("path", "string", "file to append to; \"-\" writes to standard output"),
        OptionDocumentation("audio", "none | summary", default: "none", "also write one line per audio frame, without the PCM"),
        OptionDocumentation("max_bytes", "integer", default: "104857600", "rotate the file before it grows past this size"),
        OptionDocumentation("max_files", "integer", default: "5", "rotated files to keep (path.1 is the newest)"),
    ]
}
