import RelayCore

/// The options of a `type: wav` sink.
///
/// ```yaml
/// sinks:
///   qa_recordings:
///     type: wav
///     directory: data/recordings   # {directory}/{engagement}/{stream}/{channel}.wav
///     mix: stereo                  # none | stereo: also write mixed.wav, aligned by timestamp
///     max_channels: 8              # parties (files) per stream; frames of further channel ids are dropped
///     retention: {days: 90}        # delete recordings older than 90 days (off when absent)
/// ```
public struct WAVSinkOptions: SinkOptions, Encodable {
    /// Whether to write `mixed.wav` beside the per-party files.
    public enum Mix: String, Sendable, Codable, CaseIterable {
        case none, stereo
    }

    public var directory = "data/recordings"
    public var mix = Mix.none
    /// At most this many party files per stream: a media server inventing `channel_id`s must not open a file
    /// each (ZCC sends one channel per party).
    public var maxChannels = ChannelAdmission.defaultLimit
    /// Recordings older than `retention.days` are deleted.
    public var retention = Retention()

    enum CodingKeys: String, CodingKey {
        case directory, mix, retention
        case maxChannels = "max_channels"
    }

    public init(directory: String = "data/recordings", mix: Mix = .none, maxChannels: Int = ChannelAdmission.defaultLimit, retention: Retention = Retention()) {
        self.directory = directory
        self.mix = mix
        self.maxChannels = maxChannels
        self.retention = retention
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        directory = try c.decodeIfPresent(String.self, forKey: .directory) ?? directory
        mix = try c.decodeIfPresent(Mix.self, forKey: .mix) ?? mix
        maxChannels = try c.decodeIfPresent(Int.self, forKey: .maxChannels) ?? maxChannels
        retention = try c.decodeIfPresent(Retention.self, forKey: .retention) ?? retention
        guard !directory.isEmpty else { throw OptionError(key: "directory", "must not be empty") }
        guard (1...1024).contains(maxChannels) else { throw OptionError(key: "max_channels", "must be between 1 and 1024, not \(maxChannels)") }
    }

    public static let documentation = [
        OptionDocumentation("directory", "string", default: "data/recordings", "recordings go to {directory}/{engagement}/{stream}/{channel}.wav with stream.json beside them"),
        OptionDocumentation("mix", "none | stereo", default: "none", "stereo also writes mixed.wav: first party left, second right, aligned by Zoom's timestamps"),
        OptionDocumentation("max_channels", "integer", default: "\(ChannelAdmission.defaultLimit)", "at most this many party files per stream; frames of further channel ids are counted in stream.json (refused_channel_frames) and dropped"),
        Retention.documentation,
    ]
}
