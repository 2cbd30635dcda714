/// The deterministic audio every simulated call plays, so that a receiver can check what it got byte for byte.
///
/// Two ZCC parties (agent and consumer) each get their own `channel_id` and their own triangle tone whose loudness
/// steps with the frame index. Frame N of a channel depends only on `N % cycleFrames`, which lets the simulator
/// pre-encode every frame once. The same formula is written in Python in `Tests/Conformance/`.
public enum SimulatedAudio {
    /// The two parties of every engagement: index 0 is the agent, 1 the consumer (caller).
    public static let channelIDs = ["1", "2"]
    /// Display names matching `channelIDs`.
    public static let participantNames = ["Sim Agent", "Sim Caller"]
    /// Samples per 20 ms frame at 16 kHz.
    public static let samplesPerFrame = 320
    /// Bytes per frame (s16le mono).
    public static let bytesPerFrame = samplesPerFrame * 2
    /// The audio repeats after this many frames (5 s).
    public static let cycleFrames = 250

    /// The s16le PCM of frame `index` of party `channel` (0 or 1): sample i is
    /// `tri(i) * (10 + index % 250)`, where `tri` is a triangle wave of period 40 (agent) or 64 (caller) samples
    /// ranging over -p...p.
    public static func frame(channel: Int, index: Int) -> [UInt8] {
        let period = channel == 0 ? 40 : 64
        let gain = 10 + (index % cycleFrames)
        var bytes = [UInt8]()
        bytes.reserveCapacity(bytesPerFrame)
        for i in 0..<samplesPerFrame {
            let phase = i % period
            let tri = phase < period / 2 ? 4 * phase - period : 3 * period - 4 * phase
            let sample = Int16(tri * gain)
            let bits = UInt16(bitPattern: sample)
            bytes.append(UInt8(bits & 0xff))
            bytes.append(UInt8(bits >> 8))
        }
        return bytes
    }

    /// The `channel_id` string of a party.
    public static func channelID(_ channel: Int) -> String { channelIDs[channel] }
}
