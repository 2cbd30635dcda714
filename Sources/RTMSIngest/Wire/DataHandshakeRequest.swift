/// DATA_HAND_SHAKE_REQ (3), the first frame on a media socket: the same signature as the signaling handshake
/// and the media parameters the relay wants (docs/zoom-rtms.md, "Media handshake").
struct DataHandshakeRequest: Encodable {
    var instanceKey: String
    var instanceID: String
    var streamID: String
    var signature: String
    var sequence: Int
    var mediaType: RTMSMediaType
    var audio: AudioParams?
    /// Sent only when `mediaType` includes transcripts.
    var transcript: TranscriptParams?

    /// `media_params.audio`, in Zoom's enum numbers.
    struct AudioParams: Encodable, Equatable {
        var contentType = RTMSContentType.rawAudio.rawValue
        var sampleRate: Int
        var channel: Int
        var codec: Int
        var dataOpt: Int
        var sendRate: Int

        enum CodingKeys: String, CodingKey {
            case contentType = "content_type", sampleRate = "sample_rate", channel, codec
            case dataOpt = "data_opt", sendRate = "send_rate"
        }
    }

    /// `media_params.transcript` (docs/rtms-media.md): always text (content type 5), a source language id and
    /// whether Zoom may identify the language itself.
    struct TranscriptParams: Encodable, Equatable {
        var contentType = RTMSContentType.text.rawValue
        var srcLanguage: Int
        var enableLID: Bool

        enum CodingKeys: String, CodingKey {
            case contentType = "content_type", srcLanguage = "src_language", enableLID = "enable_lid"
        }
    }

    private struct MediaParams: Encodable {
        var audio: AudioParams?
        var transcript: TranscriptParams?
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: DynamicKey.self)
        try c.encode(RTMSMessageType.dataHandshakeRequest.rawValue, forKey: "msg_type")
        try c.encode(1, forKey: "protocol_version")
        try c.encode(sequence, forKey: "sequence")
        try c.encode(instanceID, forKey: DynamicKey(instanceKey))
        try c.encode(streamID, forKey: "rtms_stream_id")
        try c.encode(signature, forKey: "signature")
        try c.encode(mediaType.rawValue, forKey: "media_type")
        try c.encode(false, forKey: "payload_encryption")
        try c.encode(MediaParams(audio: audio, transcript: mediaType.contains(.transcript) ? transcript : nil), forKey: "media_params")
    }
}
