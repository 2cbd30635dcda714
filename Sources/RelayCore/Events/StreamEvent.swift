import NIOCore

/// One thing that happened to an engagement or its media stream, as every sink sees it.
///
/// Events are plain values: the audio bytes live in a `ByteBuffer` whose storage is shared, so handing one
/// event to N sinks never copies the PCM. The stable JSON form (see `StreamEvent+JSON.swift`) is what
/// text-based sinks write.
public struct StreamEvent: Sendable {
    /// Per-process monotonic sequence number, stamped by the `EventHub` when the event is published.
    public var seq: UInt64
    /// The hub that stamped `seq`: a random number drawn when the process started (0: not published yet). With
    /// `seq` it makes the event's stable `id`, the same when a spilled event is delivered again after a restart.
    public var origin: UInt64 = 0
    /// When the event happened, in milliseconds since the Unix epoch (UTC).
    public var timeMillis: Int64
    /// The ZCC engagement (or meeting instance) the event belongs to.
    public var engagementID: String
    /// The RTMS stream, when one is known (`rtms_stream_id`).
    public var streamID: String?
    /// What happened.
    public var kind: Kind

    public init(seq: UInt64 = 0, timeMillis: Int64 = EventClock.nowMillis(), engagementID: String, streamID: String? = nil, kind: Kind) {
        self.seq = seq
        self.timeMillis = timeMillis
        self.engagementID = engagementID
        self.streamID = streamID
        self.kind = kind
    }

    /// The event's payload: one case per `type` (docs/writing-a-sink.md, "1. What a sink receives").
    public enum Kind: Sendable, Equatable {
        case engagementStarted(payload: JSONValue)
        case engagementEnded(payload: JSONValue)
        case streamRequested(action: StreamAction, by: String)
        case streamStarted(serverHost: String)
        case streamConnected(MediaParameters)
        case streamInterrupted(reason: String, attempt: Int)
        case streamResumed(reason: String, attempt: Int)
        case streamPaused
        case streamUnpaused
        case streamStopped(StopReason)
        case streamFailed(statusCode: Int?, message: String)
        case audio(AudioFrame)
        /// A hole in one party's audio: time Zoom sent nothing for (docs/rtms-media.md, "Gaps").
        case audioGap(AudioGap)
        case transcript(Transcript)
        case participant(ParticipantEvent)
    }

    /// The event's `type` string in the JSON form.
    public var type: EventType { kind.type }

    /// `{origin in hex}-{seq}`, unique across restarts; nil before the hub stamped the event.
    public var id: String? {
        origin == 0 ? nil : String(origin, radix: 16) + "-" + String(seq)
    }
}

/// The stable `type` names of the JSON form.
public enum EventType: String, Sendable, CaseIterable, Codable {
    case engagementStarted = "engagement.started"
    case engagementEnded = "engagement.ended"
    case streamRequested = "stream.requested"
    case streamStarted = "stream.started"
    case streamConnected = "stream.connected"
    case streamInterrupted = "stream.interrupted"
    case streamResumed = "stream.resumed"
    case streamPaused = "stream.paused"
    case streamUnpaused = "stream.unpaused"
    case streamStopped = "stream.stopped"
    case streamFailed = "stream.failed"
    case audio
    case audioGap = "audio.gap"
    case transcript
    case participant

    /// A call's media (audio, gaps, transcripts): the hot path, published straight from the media socket and not
    /// followed by the engagement registry.
    public var isMedia: Bool { self == .audio || self == .audioGap || self == .transcript }
}

extension StreamEvent.Kind {
    /// The `type` name of this payload.
    public var type: EventType {
        switch self {
        case .engagementStarted: .engagementStarted
        case .engagementEnded: .engagementEnded
        case .streamRequested: .streamRequested
        case .streamStarted: .streamStarted
        case .streamConnected: .streamConnected
        case .streamInterrupted: .streamInterrupted
        case .streamResumed: .streamResumed
        case .streamPaused: .streamPaused
        case .streamUnpaused: .streamUnpaused
        case .streamStopped: .streamStopped
        case .streamFailed: .streamFailed
        case .audio: .audio
        case .audioGap: .audioGap
        case .transcript: .transcript
        case .participant: .participant
        }
    }
}

/// An action on a stream through Zoom's REST API (`PUT …/rtms_app/status`).
public enum StreamAction: String, Sendable, Codable, CaseIterable {
    case start, stop, pause, resume
}

/// Why a stream ended: Zoom's numeric reason and its name (docs/zoom-rtms.md, "Stop reasons"), or a relay-side reason.
public struct StopReason: Sendable, Hashable, Codable {
    public var code: Int
    public var name: String

    public init(code: Int, name: String) {
        self.code = code
        self.name = name
    }
}

/// An audio codec RTMS can send, by the name the event JSON carries (`"codec": "L16"`).
public enum AudioCodec: String, Sendable, Hashable, Codable, CaseIterable {
    /// 16-bit signed little-endian PCM (what WAV files hold).
    case l16 = "L16"
    case g711 = "G711"
    case g722 = "G722"
    case opus = "OPUS"

    /// Reads the name in any case (`l16`), as older archives or hand-written events may have it.
    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let codec = AudioCodec(rawValue: name.uppercased()) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "unknown codec '\(name)' (one of \(Self.allCases.map(\.rawValue).joined(separator: ", ")))"))
        }
        self = codec
    }
}

/// The audio format of a stream or frame.
public struct AudioFormat: Sendable, Hashable, Codable {
    /// Samples per second, e.g. 16000.
    public var sampleRate: Int
    /// 1 for mono.
    public var channels: Int
    public var codec: AudioCodec

    public init(sampleRate: Int = 16_000, channels: Int = 1, codec: AudioCodec = .l16) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.codec = codec
    }

    /// Zoom's default for ZCC voice: L16, 16 kHz, mono.
    public static let zoomDefault = AudioFormat()

    enum CodingKeys: String, CodingKey {
        case sampleRate = "sample_rate"
        case channels
        case codec
    }
}

/// The media parameters the relay negotiated in the media handshake.
public struct MediaParameters: Sendable, Hashable, Codable {
    public var audio: AudioFormat
    /// Milliseconds of audio per frame (Zoom's `send_rate`), e.g. 20.
    public var frameMilliseconds: Int

    public init(audio: AudioFormat = .zoomDefault, frameMilliseconds: Int = 20) {
        self.audio = audio
        self.frameMilliseconds = frameMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case audio
        case frameMilliseconds = "frame_ms"
    }
}

/// One media frame of one party.
public struct AudioFrame: Sendable, Equatable {
    /// The party: ZCC `channel_id`, otherwise Zoom's `user_id`.
    public var channel: String
    public var userName: String?
    /// Zoom's timestamp of the frame, milliseconds since the epoch.
    public var timestamp: Int64
    public var format: AudioFormat
    /// Raw PCM (s16le for L16). Shared storage: sinks read it, never copy it needlessly.
    public var pcm: ByteBuffer
    /// How loud the frame is, measured once when it is made (where ingest parses it), so no sink measures it again;
    /// nil for codecs other than L16.
    public var level: AudioLevel?

    public init(channel: String, userName: String? = nil, timestamp: Int64, format: AudioFormat = .zoomDefault, pcm: ByteBuffer) {
        self.channel = channel
        self.userName = userName
        self.timestamp = timestamp
        self.format = format
        self.pcm = pcm
        self.level = format.codec == .l16 ? AudioLevel(l16: pcm) : nil
    }
}

/// The peak and RMS of a frame of 16-bit PCM.
public struct AudioLevel: Sendable, Hashable {
    /// The largest |sample|, 0 … 32768.
    public var peak: Int
    /// The root mean square of the samples, as a fraction of full scale (0 … 1).
    public var rms: Double

    public init(peak: Int, rms: Double) {
        self.peak = peak
        self.rms = rms
    }

    /// Measures s16le PCM (an odd last byte is ignored).
    public init(l16 pcm: ByteBuffer) {
        (peak, rms) = pcm.withUnsafeReadableBytes { raw -> (Int, Double) in
            let count = raw.count / 2
            guard count > 0 else { return (0, 0) }
            var sumSquares: Int64 = 0
            var peak: Int32 = 0
            for index in 0..<count {
                let value = Int32(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: index * 2, as: Int16.self)))
                sumSquares &+= Int64(value * value)
                peak = max(peak, abs(value))
            }
            return (Int(peak), (Double(sumSquares) / Double(count)).squareRoot() / 32768)
        }
    }

    /// The peak as a fraction of full scale (0 … 1).
    public var peakFraction: Double { Double(peak) / 32768 }
}

/// A stretch of one party's audio that never arrived: the frames after `fromTimestamp` (Zoom time, ms since the
/// epoch) for `durationMillis`, and why the relay thinks they are missing.
public struct AudioGap: Sendable, Hashable {
    public enum Cause: String, Sendable, Hashable, Codable {
        /// The stream was interrupted and reconnected in between.
        case reconnect
        /// The party's timestamps jumped with the connection up.
        case timestampJump = "timestamp_jump"
    }

    public var channel: String
    public var userName: String?
    public var fromTimestamp: Int64
    public var durationMillis: Int64
    public var cause: Cause

    public init(channel: String, userName: String? = nil, fromTimestamp: Int64, durationMillis: Int64, cause: Cause) {
        self.channel = channel
        self.userName = userName
        self.fromTimestamp = fromTimestamp
        self.durationMillis = durationMillis
        self.cause = cause
    }
}

/// A transcript segment (RTMS msg 17).
public struct Transcript: Sendable, Hashable, Codable {
    public var channel: String
    public var speaker: String?
    public var text: String
    /// Start and end of the segment, Zoom milliseconds.
    public var start: Int64?
    public var end: Int64?
    public var language: String?

    public init(channel: String, speaker: String? = nil, text: String, start: Int64? = nil, end: Int64? = nil, language: String? = nil) {
        self.channel = channel
        self.speaker = speaker
        self.text = text
        self.start = start
        self.end = end
        self.language = language
    }
}

/// A ZCC voice event (answered, hold, transfer, conference …) with the participant Zoom described.
public struct ParticipantEvent: Sendable, Hashable {
    /// Zoom's event number and its name.
    public var eventType: Int
    public var eventName: String
    /// Zoom's `participant_info` (or equivalent), kept as JSON.
    public var participant: JSONValue

    public init(eventType: Int, eventName: String, participant: JSONValue) {
        self.eventType = eventType
        self.eventName = eventName
        self.participant = participant
    }
}
