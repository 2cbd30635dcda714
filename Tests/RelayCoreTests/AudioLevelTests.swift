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

    @Test("a frame carries its level from the moment it is made; other codecs carry none")
    func onTheFrame() {
        let pcm = Self.pcm([100, -300, 200])
        #expect(AudioFrame(channel: "1", timestamp: 1, pcm: pcm).level == AudioLevel(l16: pcm))
        #expect(AudioFrame(channel: "1", timestamp: 1, format: AudioFormat(codec: .opus), pcm: pcm).level == nil)
    }
}
