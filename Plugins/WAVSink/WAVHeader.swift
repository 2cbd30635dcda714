/// The canonical 44-byte RIFF/WAVE header of a PCM file, written by the sink and parsed by its tests and by
/// anyone checking a recording.
///
/// The sink writes only this layout (`RIFF` · `fmt ` · `data`), so the data always starts at byte 44 and the
/// two size fields are the only bytes that change while recording.
package struct WAVHeader: Sendable, Hashable {
    package var sampleRate: Int
    package var channels: Int
    package var bitsPerSample: Int
    /// Bytes of sample data the header declares.
    package var dataBytes: Int
    /// The RIFF chunk size the header declares (36 + `dataBytes` for this layout).
    package var riffSize: Int
    /// Where the sample data starts in the file.
    package var dataOffset: Int

    /// Size of the header the sink writes.
    package static let size = 44

    package init(sampleRate: Int, channels: Int, bitsPerSample: Int = 16, dataBytes: Int) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.bitsPerSample = bitsPerSample
        self.dataBytes = dataBytes
        self.riffSize = 36 + dataBytes
        self.dataOffset = Self.size
    }

    /// Bytes per sample frame (all channels).
    package var blockAlign: Int { channels * bitsPerSample / 8 }

    /// The 44 header bytes. Sizes past 4 GiB are clamped: such a file is no longer valid RIFF anyway.
    package func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.size)
        func u32(_ value: Int) {
            let v = UInt32(clamping: value)
            bytes += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
        }
        func u16(_ value: Int) {
            let v = UInt16(clamping: value)
            bytes += [UInt8(v & 0xFF), UInt8(v >> 8)]
        }
        bytes += Array("RIFF".utf8)
        u32(36 + dataBytes)
        bytes += Array("WAVEfmt ".utf8)
        u32(16)
        u16(1)  // PCM
        u16(channels)
        u32(sampleRate)
        u32(sampleRate * blockAlign)
        u16(blockAlign)
        u16(bitsPerSample)
        bytes += Array("data".utf8)
        u32(dataBytes)
        return bytes
    }

    /// Parses a RIFF/WAVE file's header by walking its chunks, so it also accepts files other tools wrote.
    package static func parse(_ file: [UInt8]) throws -> WAVHeader {
        func u32(_ at: Int) throws -> Int {
            guard at + 4 <= file.count else { throw WAVHeaderError("truncated at byte \(at)") }
            return Int(file[at]) | Int(file[at + 1]) << 8 | Int(file[at + 2]) << 16 | Int(file[at + 3]) << 24
        }
        func u16(_ at: Int) throws -> Int {
            guard at + 2 <= file.count else { throw WAVHeaderError("truncated at byte \(at)") }
            return Int(file[at]) | Int(file[at + 1]) << 8
        }
        func tag(_ at: Int) -> String {
            at + 4 <= file.count ? String(decoding: file[at..<at + 4], as: UTF8.self) : ""
        }
        guard tag(0) == "RIFF", tag(8) == "WAVE" else { throw WAVHeaderError("not a RIFF/WAVE file") }
        let riffSize = try u32(4)
        var offset = 12
        var format: (rate: Int, channels: Int, bits: Int)?
        while offset + 8 <= file.count {
            let id = tag(offset)
            let size = try u32(offset + 4)
            if id == "fmt " {
                guard try u16(offset + 8) == 1 else { throw WAVHeaderError("not PCM") }
                format = (try u32(offset + 12), try u16(offset + 10), try u16(offset + 22))
            } else if id == "data" {
                guard let format else { throw WAVHeaderError("data chunk before fmt chunk") }
                var header = WAVHeader(sampleRate: format.rate, channels: format.channels, bitsPerSample: format.bits, dataBytes: size)
                header.riffSize = riffSize
                header.dataOffset = offset + 8
                return header
            }
            offset += 8 + size + (size & 1)
        }
        throw WAVHeaderError("no data chunk")
    }
}

/// A file that is not the WAV the caller expected.
package struct WAVHeaderError: Error, CustomStringConvertible {
    package var description: String
    init(_ description: String) { self.description = description }
}
