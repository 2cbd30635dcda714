/// The ranges the relay accepts for numbers a media server sends, checked where they enter (the media handshake,
/// each audio frame and each transcript segment) so no sink ever computes with an absurd one: a single `timestamp` of
/// 999999999999999999 used to overflow `(timestamp - origin) * sampleRate` in the WAV sink and end the process.
public enum RTMSWireLimits {
    /// `media_params.audio.channel`: RTMS sends mono (1) or stereo (2).
    public static let channels: ClosedRange<Int> = 1...2
    /// `media_params.audio.send_rate`: milliseconds of audio per frame (Zoom's default is 20).
    public static let sendRateMilliseconds: ClosedRange<Int> = 10...1000
    /// Audio timestamps are milliseconds since the epoch; none may be negative or past the year 9999.
    public static let timestamps: ClosedRange<Int64> = 0...253_402_300_799_999
    /// How far a frame's timestamp may lie from the stream's first one: 24 hours, far longer than any call
    /// (a WAV file cannot even hold 24 h of 48 kHz audio), yet small enough that `distance × sample rate` fits
    /// any integer the sinks use.
    public static let maximumDistanceFromOrigin: Int64 = 24 * 3600 * 1000

    /// `language` of a transcript segment (MEDIA_DATA_TRANSCRIPT, 17): one of Zoom's language ids.
    public static let transcriptLanguages = RTMSTranscriptLanguage.ids

    /// A transcript segment's start (`start_time`, else `timestamp`) and `end_time` as the relay keeps them: each
    /// must lie in `timestamps`, and an end before the start is dropped. What fails is left out (nil), so a
    /// segment with an absurd time still carries its text.
    public static func transcriptTimes(start: Int64?, end: Int64?) -> (start: Int64?, end: Int64?) {
        let start = start.flatMap { timestamps.contains($0) ? $0 : nil }
        var end = end.flatMap { timestamps.contains($0) ? $0 : nil }
        if let from = start, let to = end, to < from { end = nil }
        return (start, end)
    }

    /// Whether an audio frame's `timestamp` is usable, given the stream's first non-zero timestamp (nil before it).
    /// 0 means "no timestamp" (the field was missing) and is accepted; sinks then place the frame by arrival.
    public static func accepts(timestamp: Int64, origin: Int64?) -> Bool {
        guard timestamps.contains(timestamp) else { return false }
        guard timestamp != 0, let origin else { return true }
        // Both lie in `timestamps`, so the difference cannot overflow.
        return abs(timestamp - origin) <= maximumDistanceFromOrigin
    }
}

/// One stream's check of its audio timestamps: the first usable one becomes the origin, and every frame must
/// pass `RTMSWireLimits.accepts(timestamp:origin:)`. Ingest drops (and counts as malformed) what fails.
public struct AudioTimestampGate: Sendable {
    /// The stream's first non-zero, in-range timestamp; nil before it.
    public private(set) var origin: Int64?

    public init() {}

    /// Whether a frame with `timestamp` may be published.
    public mutating func admit(_ timestamp: Int64) -> Bool {
        if origin == nil, timestamp > 0, RTMSWireLimits.timestamps.contains(timestamp) { origin = timestamp }
        return RTMSWireLimits.accepts(timestamp: timestamp, origin: origin)
    }
}
