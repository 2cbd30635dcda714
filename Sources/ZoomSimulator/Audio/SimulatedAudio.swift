/// The deterministic audio every simulated call plays, so that a receiver can check what it got byte for byte.
///
/// Two ZCC parties (agent and consumer) each get their own `channel_id`. They take turns as
/// `SimulatedConversation` says: the party whose turn it is speaks a voiced tone whose loudness and pitch follow
/// 200 ms syllables, the other party (and both, during the pauses between turns) sends near-silence, a faint
/// noise of at most ±3. Frame N of a channel depends only on `N % cycleFrames`, which lets the simulator
/// pre-encode every frame once, and no two frames of a channel's cycle are alike. Only integer arithmetic is used,
/// so the same formula is written exactly in Python in `Tests/Conformance/`.
public enum SimulatedAudio {
    /// The two parties of every engagement: index 0 is the agent, 1 the consumer (caller).
    public static let channelIDs = ["1", "2"]
    /// Display names matching `channelIDs`.
    public static let participantNames = ["Sim Agent", "Sim Caller"]
    /// Samples per 20 ms frame at 16 kHz.
    public static let samplesPerFrame = 320
    /// Bytes per frame (s16le mono).
    public static let bytesPerFrame = samplesPerFrame * 2
    /// The audio repeats after this many frames: one pass through the conversation's script.
    public static let cycleFrames = SimulatedConversation.cycleFrames
    /// The pitch of each party's voice: the period in samples of its tone (133 Hz agent, 190 Hz caller).
    static let voicePeriods = [120, 84]
    /// The loudest a syllable gets, by its position in a pattern of four (a rough stress pattern).
    static let syllablePeaks = [9_000, 12_000, 7_500, 10_500]
    /// How much a syllable's period is raised, in twentieths of the voice's period, by the same position.
    static let syllableInflections = [0, 1, 2, 1]

    /// The s16le PCM of frame `index` of party `channel` (0 or 1): sample i is
    /// `noise(channel, n) + voice(channel, t)` with `n = (index % cycleFrames) × 320 + i`, the sample's place in the
    /// cycle, and `t` its distance from the start of the party's current turn; `voice` is 0 outside the party's
    /// turns.
    public static func frame(channel: Int, index: Int) -> [UInt8] {
        let position = index % cycleFrames
        let turn = SimulatedConversation.speaking(at: position).flatMap { $0.party == channel ? $0 : nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(bytesPerFrame)
        for i in 0..<samplesPerFrame {
            let n = position * samplesPerFrame + i
            var sample = noise(channel: channel, sample: n)
            if let turn {
                sample += voice(channel: channel, line: turn.number, sample: n - turn.frames.lowerBound * samplesPerFrame)
            }
            let bits = UInt16(bitPattern: Int16(sample))
            bytes.append(UInt8(bits & 0xff))
            bytes.append(UInt8(bits >> 8))
        }
        return bytes
    }

    /// Sample `t` of a turn of script line `line`: a triangle tone under a triangular loudness envelope per syllable
    /// (silent at each syllable's edges, loudest in its middle). Every division has a non-negative dividend, so
    /// truncating and flooring division agree.
    static func voice(channel: Int, line: Int, sample t: Int) -> Int {
        let syllableSamples = SimulatedConversation.framesPerSyllable * samplesPerFrame
        let syllable = t / syllableSamples
        let q = t % syllableSamples
        let stress = (syllable + line) % syllablePeaks.count
        let amplitude = syllablePeaks[stress] * min(q, syllableSamples - q) / (syllableSamples / 2)
        let period = voicePeriods[channel] + voicePeriods[channel] / 20 * syllableInflections[stress]
        let phase = t % period
        // A triangle over -period...period, shifted to 0...2·period.
        let rising = phase < period / 2 ? 4 * phase : 4 * period - 4 * phase
        return rising * amplitude / period - amplitude
    }

    /// Faint noise in -3...3 from a 32-bit integer hash (lowbias32) of the sample's place and party.
    static func noise(channel: Int, sample n: Int) -> Int {
        var x = UInt32(truncatingIfNeeded: 2 * n + channel)
        x ^= x >> 16
        x = x &* 0x7feb_352d
        x ^= x >> 15
        x = x &* 0x846c_a68b
        x ^= x >> 16
        return Int(x % 7) - 3
    }

    /// The `channel_id` string of a party.
    public static func channelID(_ channel: Int) -> String { channelIDs[channel] }
}
