import NIOCore
import RelayCore

/// Deterministic L16 audio for tests of audio sinks: every sample is a known, non-zero function of its
/// party and position, so a test can predict a recording byte for byte and tell silence (zeros) from audio.
public struct DeterministicAudio: Sendable {
    public var sampleRate: Int
    public var frameMilliseconds: Int
    /// Zoom timestamp (ms) of frame 0.
    public var origin: Int64

    public init(sampleRate: Int = 16_000, frameMilliseconds: Int = 20, origin: Int64 = 1_764_000_000_000) {
        self.sampleRate = sampleRate
        self.frameMilliseconds = frameMilliseconds
        self.origin = origin
    }

    public var samplesPerFrame: Int { sampleRate * frameMilliseconds / 1000 }
    public var format: AudioFormat { AudioFormat(sampleRate: sampleRate, channels: 1, codec: .l16) }

    /// Sample `index` (from the stream's origin) of party `party`; never zero.
    public static func sample(party: Int, index: Int) -> Int16 {
        let magnitude = Int16((index &* 131 &+ party &* 7_777) % 29_999 + 1)
        return index % 2 == 0 ? magnitude : -magnitude
    }

    /// The s16le bytes of frame `frame` of `party`.
    public func frameBytes(party: Int, frame: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(samplesPerFrame * 2)
        for i in frame * samplesPerFrame..<(frame + 1) * samplesPerFrame {
            let value = UInt16(bitPattern: Self.sample(party: party, index: i))
            bytes += [UInt8(value & 0xFF), UInt8(value >> 8)]
        }
        return bytes
    }

    /// The s16le stereo bytes a two-party mix holds for `frames`: party 0 on the left, party 1 on the right,
    /// each silent (zeros) in the frames where `left` or `right` says it sent nothing.
    public func stereoMix(_ frames: Range<Int>, left: (Int) -> Bool, right: (Int) -> Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(frames.count * samplesPerFrame * 4)
        for index in (frames.lowerBound * samplesPerFrame)..<(frames.upperBound * samplesPerFrame) {
            let frame = index / samplesPerFrame
            for (party, sends) in [(0, left(frame)), (1, right(frame))] {
                let bits = UInt16(bitPattern: sends ? Self.sample(party: party, index: index) : 0)
                bytes += [UInt8(bits & 0xFF), UInt8(bits >> 8)]
            }
        }
        return bytes
    }

    /// Zoom's timestamp of frame `frame`.
    public func timestamp(frame: Int) -> Int64 {
        origin + Int64(frame * frameMilliseconds)
    }

    /// An `audio` event carrying frame `frame` of `party` on `channel`.
    public func event(engagement: String, stream: String?, channel: String, party: Int, frame: Int, userName: String? = nil, timestampOffset: Int64 = 0) -> StreamEvent {
        StreamEvent(
            timeMillis: timestamp(frame: frame), engagementID: engagement, streamID: stream,
            kind: .audio(AudioFrame(
                channel: channel, userName: userName, timestamp: timestamp(frame: frame) + timestampOffset,
                format: format, pcm: ByteBuffer(bytes: frameBytes(party: party, frame: frame))
            ))
        )
    }

    /// The `stream.connected` event announcing this format.
    public func connected(engagement: String, stream: String?) -> StreamEvent {
        StreamEvent(
            timeMillis: origin - 100, engagementID: engagement, streamID: stream,
            kind: .streamConnected(MediaParameters(audio: format, frameMilliseconds: frameMilliseconds))
        )
    }
}
