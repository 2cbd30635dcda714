import NIOCore
import RelayCore
import Testing

/// `AudioFrame.level`: measured once, where the frame is made, for every sink that shows or stores loudness.
@Suite("Audio level")
struct AudioLevelTests {
    static func pcm(_ samples: [Int16]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for sample in samples { buffer.writeInteger(sample, endianness: .little) }
        return buffer
    }

    @Test("peak and RMS of s16le samples, full scale included; an odd last byte is ignored")
    func measured() {
        let level = AudioLevel(l16: Self.pcm([0, 16384, -16384, 0]))
        #expect(level.peak == 16384)
        #expect(abs(level.rms - (0.5 * 0.5 * 2 / 4).squareRoot()) < 1e-12)
        #expect(abs(level.peakFraction - 0.5) < 1e-12)
        #expect(AudioLevel(l16: Self.pcm([Int16.min, 3])).peak == 32768)
        var odd = Self.pcm([-7])
        odd.writeInteger(UInt8(0xFF))
        #expect(AudioLevel(l16: odd) == AudioLevel(peak: 7, rms: 7.0 / 32768))
        #expect(AudioLevel(l16: ByteBuffer()) == AudioLevel(peak: 0, rms: 0))
    }

    @Test("a whole frame of 323 samples gives what the plain formula gives, full scale and the last samples included")
    func wholeFrame() {
        // Full scale (Int16.min) in the middle, Int16.max near the end.
        var samples = (0..<323).map { Int16(truncatingIfNeeded: ($0 * 7919) % 65536 - 32768) }
        samples[77] = Int16.min
        samples[321] = Int16.max
        let level = AudioLevel(l16: Self.pcm(samples))
        let squares = samples.reduce(0.0) { $0 + Double($1) * Double($1) }
        #expect(level.peak == 32768)
        #expect(abs(level.rms - (squares / 323).squareRoot() / 32768) < 1e-9)
        // At most ±32 elsewhere; the loudest sample is the last.
        var quiet = samples.map { $0 / 1000 }
        quiet[322] = -40
        #expect(AudioLevel(l16: Self.pcm(quiet)).peak == 40)
    }

    @Test("a frame carries its level from the moment it is made; other codecs carry none")
    func onTheFrame() {
        let pcm = Self.pcm([100, -300, 200])
        #expect(AudioFrame(channel: "1", timestamp: 1, pcm: pcm).level == AudioLevel(l16: pcm))
        #expect(AudioFrame(channel: "1", timestamp: 1, format: AudioFormat(codec: .opus), pcm: pcm).level == nil)
    }
}
