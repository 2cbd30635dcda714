import NIOCore

/// Every message Zoom sends that the relay understands, parsed from one text or binary WebSocket frame.
public enum RTMSInboundMessage: Sendable, Equatable {
    case signalingHandshake(SignalingHandshakeResponse)
    case dataHandshake(DataHandshakeResponse)
    case keepAlive(KeepAliveRequest)
    case audio(AudioPacket)
    case transcript(TranscriptMessage)
    case event(EventUpdate)
    case streamState(StreamStateUpdate)
    case sessionState(SessionStateUpdate)
    case streamCloseResponse(StreamCloseResponse)
    /// A well-formed message the relay does not act on (video, chat, state responses …).
    case other(msgType: Int)
}

/// One MEDIA_DATA_AUDIO (14) packet, decoded.
public struct AudioPacket: Sendable, Equatable {
    /// ZCC `channel_id`, else `user_id` as text.
    public var channel: String
    public var userName: String?
    /// Zoom's timestamp, ms since the epoch.
    public var timestamp: Int64
    /// The decoded payload (s16le PCM for L16).
    public var pcm: ByteBuffer

    public init(channel: String, userName: String?, timestamp: Int64, pcm: ByteBuffer) {
        self.channel = channel
        self.userName = userName
        self.timestamp = timestamp
        self.pcm = pcm
    }
}

/// Why a frame could not be used; logged and counted, never fatal.
public struct RTMSParseError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
