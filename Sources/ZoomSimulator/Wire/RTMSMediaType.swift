/// The `media_type` bitmask of a data handshake (docs/rtms-media.md, "Media types are a bitmask").
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

/// The media URL kinds the signaling response advertises; each is its own path on the media listener.
enum MediaURLKind: String, CaseIterable, Sendable {
    case audio, video, transcript, deskshare, chat, all

    /// The `media_type` bits a data handshake on this URL may ask for.
    var allowedBits: RTMSMediaType {
        switch self {
        case .audio: .audio
        case .video: .video
        case .transcript: .transcript
        case .deskshare: .deskshare
        case .chat: .chat
        case .all: [.audio, .video, .deskshare, .transcript, .chat, .all]
        }
    }
}
