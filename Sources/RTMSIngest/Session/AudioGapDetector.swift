import RelayCore

/// Finds holes in each party's audio (docs/rtms-media.md, "Gaps"). RTMS media carries no sequence numbers, so a
/// hole is read from the timestamps: a party's next frame is due where its previous one ended; a frame that
/// starts more than one frame later means the time in between never arrived. The cause is `reconnect` when the
/// stream was interrupted since that party's previous frame, else `timestamp_jump`.
///
/// A pause is not a loss: `reset()` on pause and unpause forgets where each party was. Frames that arrive late
/// or twice (an overlap after a resume) never move a party's position back and report nothing; the WAV sink
/// writes them into their slot or drops the repeat.
struct AudioGapDetector: Sendable {
    private struct Position: Sendable {
        /// Zoom time the party's next frame is due.
        var due: Int64
        /// `interruptions` when the party's last frame arrived.
        var interruptions: Int
    }

    private var positions: [String: Position] = [:]
    private var interruptions = 0
    /// Parties followed per stream: a media server inventing channel ids must not grow this without bound.
    static let maxChannels = 64

    mutating func interrupted() { interruptions += 1 }

    mutating func reset() { positions = [:] }

    /// The hole before a frame of `channel` at `timestamp` lasting `durationMillis`, if there is one. Timestamps
    /// are already range-checked (`AudioTimestampGate`), so the arithmetic cannot overflow.
    mutating func frame(channel: String, timestamp: Int64, durationMillis: Int64) -> (from: Int64, durationMillis: Int64, cause: AudioGap.Cause)? {
        let end = timestamp + max(durationMillis, 1)
        guard let position = positions[channel] else {
            if positions.count < Self.maxChannels { positions[channel] = Position(due: end, interruptions: interruptions) }
            return nil
        }
        positions[channel] = Position(due: max(position.due, end), interruptions: interruptions)
        let missing = timestamp - position.due
        guard missing > durationMillis else { return nil }
        return (position.due, missing, position.interruptions != interruptions ? .reconnect : .timestampJump)
    }
}
