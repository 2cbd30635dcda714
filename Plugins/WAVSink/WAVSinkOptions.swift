import RelayCore

/// The options of a `type: wav` sink.
///
/// ```yaml
/// sinks:
///   qa_recordings:
///     type: wav
///     directory: data/recordings   # {directory}/{engagement}/{stream}/{channel}.wav
///     mix: stereo                  # none | stereo: also write mixed.wav, aligned by timestamp
/// ```
public struct WAVSinkOptions: SinkOptions {
    /// Whether to write `mixed.wav` beside the per-party files.
    public enum Mix: String, Sendable, Decodable, CaseIterable {
        case none, stereo
    }

    public var directory = "data/recordings"
    public var mix = Mix.none

    enum CodingKeys: String, CodingKey {
        case directory, mix
    }

    public init(directory: String = "data/recordings", mix: Mix = .none) {
        self.directory = directory
        self.mix = mix
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        directory = try c.decodeIfPresent(String.self, forKey: .directory) ?? directory
        mix = try c.decodeIfPresent(Mix.self, forKey: .mix) ?? mix
        guard !directory.isEmpty else { throw SinkConfigurationError(key: "directory", "must not be empty") }
    }

    public static let documentation = [
        OptionDocumentation("directory", "string", default: "data/recordings", "recordings go to {directory}/{engagement}/{stream}/{channel}.wav with stream.json beside them"),
        OptionDocumentation("mix", "none | stereo", default: "none", "stereo also writes mixed.wav: first party left, second right, aligned by Zoom's timestamps"),
    ]
}
