/// `status_code` values in handshake and close responses, in the current documented numbering
/// (docs/zoom-rtms.md, "Status codes"). The simulator never emits the legacy 0–75 numbering.
public enum RTMSStatusCode: Int, Sendable, Codable {
    case ok = 0
    case invalidMessageType = 1
    case invalidStreamID = 2
    case invalidSignature = 3
    case invalidPayload = 4
    case invalidMediaType = 7
    case duplicateSignalRequest = 8
    case mediaTypeVideoNotSupported = 10
    case mediaTypeDeskshareNotSupported = 11
    case mediaTypeChatNotSupported = 13
    case mediaTypeInvalidValue = 14
    case duplicateMediaDataConnection = 16
    case invalidMediaParams = 17
    case invalidAudioParams = 18
    case invalidAudioContentType = 19
    case invalidAudioSampleRate = 20
    case invalidAudioChannel = 21
    case invalidAudioCodec = 22
    case invalidAudioDataOption = 23
    case invalidAudioSendRate = 24
    case invalidTranscriptParams = 36
    case invalidTranscriptContentType = 37
    case invalidSessionID = 40
    case invalidTranscriptSourceLanguage = 43
    case internalException = 45

    /// The English reason text sent next to the code; clients match "duplicate signal request" by text.
    var reason: String {
        switch self {
        case .ok: ""
        case .invalidMessageType: "Invalid message type"
        case .invalidStreamID: "Invalid rtms stream id"
        case .invalidSignature: "Invalid signature"
        case .invalidPayload: "Invalid payload"
        case .invalidMediaType: "Invalid media type"
        case .duplicateSignalRequest: "duplicate signal request"
        case .mediaTypeVideoNotSupported: "Media type video not supported"
        case .mediaTypeDeskshareNotSupported: "Media type deskshare not supported"
        case .mediaTypeChatNotSupported: "Media type chat not supported"
        case .mediaTypeInvalidValue: "Media type invalid value"
        case .duplicateMediaDataConnection: "duplicate media data connection"
        case .invalidMediaParams: "Invalid media params"
        case .invalidAudioParams: "Invalid audio params"
        case .invalidAudioContentType: "Invalid audio content type"
        case .invalidAudioSampleRate: "Invalid audio sample rate"
        case .invalidAudioChannel: "Invalid audio channel"
        case .invalidAudioCodec: "Invalid audio codec"
        case .invalidAudioDataOption: "Invalid audio data option"
        case .invalidAudioSendRate: "Invalid audio send rate"
        case .invalidTranscriptParams: "Invalid transcript params"
        case .invalidTranscriptContentType: "Invalid transcript content type"
        case .invalidSessionID: "Invalid rtms session id"
        case .invalidTranscriptSourceLanguage: "Invalid transcript source language"
        case .internalException: "Internal exception"
        }
    }
}
