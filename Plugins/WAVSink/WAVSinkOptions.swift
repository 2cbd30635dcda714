import RelayCore

/// The options of a `type: wav` sink, each declared once in `Declared` (`rtms-relay check-config` lists
/// them; `config.yaml.example` shows them in use).
public struct WAVSinkOptions: SinkOptions, Encodable {
    /// Whether to write `mixed.wav` beside the per-party files.
    public enum Mix: String, Sendable, Codable, CaseIterable {
        case none, stereo
    }

    public enum CodingKeys: String, CodingKey, Sendable {
        case directory, mix, retention
        case maxChannels = "max_channels"
    }

    public enum Declared {
        public static let directory = SinkOption(CodingKeys.directory, "string", default: "data/recordings",
            "recordings go to {directory}/{engagement}/{stream}/{channel}.wav with stream.json beside them")
        public static let mix = SinkOption(CodingKeys.mix, "none | stereo", default: Mix.none,
            "stereo also writes mixed.wav: first party left, second right, aligned by Zoom's timestamps")
        /// A media server inventing `channel_id`s must not open a file each (ZCC sends one channel per party).
        public static let maxChannels = SinkOption(CodingKeys.maxChannels, "integer", default: ChannelAdmission.defaultLimit,
            "at most this many party files per stream; frames of further channel ids are counted in stream.json (refused_channel_frames) and dropped")
        public static let retention = SinkOption(CodingKeys.retention, "{days: integer}", default: Retention(), shown: "off", Retention.help)
    }

    public static let documentation = [Declared.directory.documentation, Declared.mix.documentation, Declared.maxChannels.documentation, Declared.retention.documentation]

    public var directory: String
    public var mix: Mix
    /// At most this many party files per stream.
    public var maxChannels: Int
    /// Recordings older than `retention.days` are deleted.
    public var retention: Retention

    public init(directory: String = Declared.directory.default, mix: Mix = Declared.mix.default, maxChannels: Int = Declared.maxChannels.default,
                retention: Retention = Declared.retention.default) {
        self.directory = directory
        self.mix = mix
        self.maxChannels = maxChannels
        self.retention = retention
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        directory = try c.decode(Declared.directory)
        mix = try c.decode(Declared.mix)
        maxChannels = try c.decode(Declared.maxChannels)
        retention = try c.decode(Declared.retention)
        guard !directory.isEmpty else { throw OptionError(key: "directory", "must not be empty") }
        guard (1...1024).contains(maxChannels) else { throw OptionError(key: "max_channels", "must be between 1 and 1024, not \(maxChannels)") }
    }
}
