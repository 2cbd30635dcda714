import RelayCore

/// `MEDIA_DATA_TYPE` bitmask of a data handshake (docs/rtms-media.md, "Media types are a bitmask").
public struct RTMSMediaType: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let audio = RTMSMediaType(rawValue: 1)
    public static let video = RTMSMediaType(rawValue: 2)
    public static let deskshare = RTMSMediaType(rawValue: 4)
    public static let transcript = RTMSMediaType(rawValue: 8)
    public static let chat = RTMSMediaType(rawValue: 16)
    public static let all = RTMSMediaType(rawValue: 32)
}

/// `MEDIA_PAYLOAD_TYPE` (`codec`).
public enum RTMSAudioCodec: Int, Sendable, Codable {
    case l16 = 1, g711 = 2, g722 = 3, opus = 4

    /// The codec in `AudioFormat`.
    public var codec: AudioCodec {
        switch self {
        case .l16: .l16
        case .g711: .g711
        case .g722: .g722
        case .opus: .opus
        }
    }

    /// The wire number of `codec`.
    public init(_ codec: AudioCodec) {
        switch codec {
        case .l16: self = .l16
        case .g711: self = .g711
        case .g722: self = .g722
        case .opus: self = .opus
        }
    }
}

/// `AUDIO_SAMPLE_RATE`: an index, not Hz.
public enum RTMSAudioSampleRate: Int, Sendable, Codable {
    case hz8000 = 0, hz16000 = 1, hz32000 = 2, hz48000 = 3

    public var hertz: Int { [8_000, 16_000, 32_000, 48_000][rawValue] }

    public init?(hertz: Int) {
        guard let index = [8_000, 16_000, 32_000, 48_000].firstIndex(of: hertz) else { return nil }
        self.init(rawValue: index)
    }
}

/// `MEDIA_DATA_OPTION` (`data_opt`) for audio.
public enum RTMSAudioDataOption: Int, Sendable, Codable {
    case mixedStream = 1, multiStreams = 2
}

/// `MEDIA_CONTENT_TYPE`.
public enum RTMSContentType: Int, Sendable, Codable {
    case rtp = 1, rawAudio = 2, rawVideo = 3, fileStream = 4, text = 5
}

/// `src_language` of the transcript parameters: Zoom's language ids, -1 (none: Zoom identifies the language)
/// and 0…36 in alphabetical order of the language's English name (docs/rtms-media.md).
public enum RTMSTranscriptLanguage {
    public static let english = 9
    /// Every id Zoom defines.
    public static let ids: ClosedRange<Int> = -1...36
}
