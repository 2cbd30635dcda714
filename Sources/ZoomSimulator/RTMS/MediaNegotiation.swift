/// Checks a DATA_HAND_SHAKE_REQ's `media_type` and `media_params` against the URL it arrived on and what a ZCC
/// stream offers, and completes the parameters with defaults (docs/zoom-rtms.md, "Media handshake").
enum MediaNegotiation: Equatable {
    case accepted(kinds: RTMSMediaType, confirmed: ConfirmedMediaParams, framesPerMessage: Int)
    case refused(RTMSStatusCode)

    static func == (lhs: MediaNegotiation, rhs: MediaNegotiation) -> Bool {
        switch (lhs, rhs) {
        case (.refused(let a), .refused(let b)): a == b
        case (.accepted(let a, _, let x), .accepted(let b, _, let y)): a == b && x == y
        default: false
        }
    }

    static func negotiate(kind: MediaURLKind, mediaType: Int?, params: RTMSClientMessage.MediaParams?) -> MediaNegotiation {
        guard let mediaType, (1...63).contains(mediaType) else { return .refused(.mediaTypeInvalidValue) }
        var kinds = RTMSMediaType(rawValue: mediaType)
        guard kind.allowedBits.isSuperset(of: kinds) else { return .refused(.invalidMediaType) }
        // A ZCC voice stream has audio and transcripts only.
        if kinds.contains(.video) { return .refused(.mediaTypeVideoNotSupported) }
        if kinds.contains(.deskshare) { return .refused(.mediaTypeDeskshareNotSupported) }
        if kinds.contains(.chat) { return .refused(.mediaTypeChatNotSupported) }
        if kinds.contains(.all) { kinds = [.audio, .transcript, .all] }

        var confirmed = ConfirmedMediaParams()
        var framesPerMessage = 1
        if kinds.contains(.audio) {
            let audio = params?.audio
            // §17 Q9: content_type 1 (RTP) is accepted as an alias of 2, as older official samples rely on it.
            let contentType = audio?.contentType ?? 2
            guard contentType == 1 || contentType == 2 else { return .refused(.invalidAudioContentType) }
            let codec = audio?.codec ?? 1
            guard (1...4).contains(codec) else { return .refused(.invalidAudioCodec) }
            let sampleRate = audio?.sampleRate ?? 1
            guard (0...3).contains(sampleRate) else { return .refused(.invalidAudioSampleRate) }
            if codec == 4, sampleRate != 3 { return .refused(.invalidAudioSampleRate) }
            let channel = audio?.channel ?? 1
            guard channel == 1 || channel == 2 else { return .refused(.invalidAudioChannel) }
            if channel == 2, codec != 4 { return .refused(.invalidAudioChannel) }
            // The simulator only produces L16 at 16 kHz mono; other valid formats are refused rather than faked.
            guard codec == 1 else { return .refused(.invalidAudioCodec) }
            guard sampleRate == 1 else { return .refused(.invalidAudioSampleRate) }
            let dataOpt = audio?.dataOpt ?? 1
            guard dataOpt == 1 || dataOpt == 2 else { return .refused(.invalidAudioDataOption) }
            var sendRate = audio?.sendRate ?? 20
            guard sendRate > 0, sendRate % 20 == 0 else { return .refused(.invalidAudioSendRate) }
            sendRate = min(sendRate, 1000)
            framesPerMessage = sendRate / 20
            confirmed.audio = .init(contentType: 2, sampleRate: 1, channel: 1, codec: 1, dataOpt: dataOpt, sendRate: sendRate)
        }
        if kinds.contains(.transcript) {
            let transcript = params?.transcript
            guard (transcript?.contentType ?? 5) == 5 else { return .refused(.invalidTranscriptContentType) }
            let language = transcript?.srcLanguage ?? 9
            guard (-1...36).contains(language) else { return .refused(.invalidTranscriptSourceLanguage) }
            confirmed.transcript = .init(contentType: 5, srcLanguage: language, enableLID: transcript?.enableLID ?? true)
        }
        return .accepted(kinds: kinds, confirmed: confirmed, framesPerMessage: framesPerMessage)
    }
}
