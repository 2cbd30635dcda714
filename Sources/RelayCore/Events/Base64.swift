/// Base64 (RFC 4648, with padding) without going through `Data`: audio frames are encoded and decoded on
/// the hot path, where Foundation's extra copies show up in profiles.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// The base64 text of `bytes`.
    public static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let count = bytes.count
        let outputLength = ((count + 2) / 3) * 4
        return String(unsafeUninitializedCapacity: outputLength) { output in
            var out = 0
            var iterator = bytes.makeIterator()
            while let b0 = iterator.next() {
                let b1 = iterator.next()
                let b2 = iterator.next()
                output[out] = alphabet[Int(b0 >> 2)]
                output[out + 1] = alphabet[Int(((b0 & 0x03) << 4) | ((b1 ?? 0) >> 4))]
                output[out + 2] = b1.map { alphabet[Int((($0 & 0x0F) << 2) | ((b2 ?? 0) >> 6))] } ?? UInt8(ascii: "=")
                output[out + 3] = b2.map { alphabet[Int($0 & 0x3F)] } ?? UInt8(ascii: "=")
                out += 4
            }
            return outputLength
        }
    }

    /// The bytes of base64 `text`, or nil when it is not valid base64.
    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// Decodes base64 held as UTF-8 bytes (e.g. a slice of a received frame), or nil when invalid.
    public static func decode(utf8 input: UnsafeRawBufferPointer) -> [UInt8]? {
        guard let length = decodedCount(utf8: input) else { return nil }
        var valid = true
        let result = [UInt8](unsafeUninitializedCapacity: length) { output, initialized in
            valid = decode(utf8: input, into: UnsafeMutableRawBufferPointer(output)) != nil
            initialized = valid ? length : 0
        }
        return valid ? result : nil
    }

    /// How many bytes `input` decodes to, or nil when its length or padding cannot be base64.
    public static func decodedCount(utf8 input: UnsafeRawBufferPointer) -> Int? {
        guard input.count % 4 == 0 else { return nil }
        guard input.count > 0 else { return 0 }
        var padding = 0
        if input[input.count - 1] == UInt8(ascii: "=") { padding += 1 }
        if input[input.count - 2] == UInt8(ascii: "=") { padding += 1 }
        return input.count / 4 * 3 - padding
    }

    /// Decodes `input` into `output` (which must hold `decodedCount(utf8:)` bytes, e.g. a buffer's writable
    /// bytes); returns the count written, or nil when `input` is not valid base64.
    public static func decode(utf8 input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard let length = decodedCount(utf8: input), output.count >= length else { return nil }
        guard length > 0 else { return 0 }
        return decodeTable.withUnsafeBufferPointer { table -> Int? in
            let count = input.count
            // Every group but the last has four alphabet characters: '=' maps to 0xFF like any non-alphabet byte.
            var index = 0, out = 0
            while index < count - 4 {
                let c0 = table[Int(input[index])], c1 = table[Int(input[index + 1])]
                let c2 = table[Int(input[index + 2])], c3 = table[Int(input[index + 3])]
                guard (c0 | c1 | c2 | c3) & 0xC0 == 0 else { return nil }
                let bits = UInt32(c0) << 18 | UInt32(c1) << 12 | UInt32(c2) << 6 | UInt32(c3)
                output[out] = UInt8(truncatingIfNeeded: bits >> 16)
                output[out + 1] = UInt8(truncatingIfNeeded: bits >> 8)
                output[out + 2] = UInt8(truncatingIfNeeded: bits)
                index += 4
                out += 3
            }
            // The last group: "xxxx", "xxx=" or "xx==".
            let r2 = input[index + 2], r3 = input[index + 3]
            let padding = (r3 == UInt8(ascii: "=") ? 1 : 0) + (r2 == UInt8(ascii: "=") ? 1 : 0)
            if r2 == UInt8(ascii: "=") && r3 != UInt8(ascii: "=") { return nil }
            let c0 = table[Int(input[index])], c1 = table[Int(input[index + 1])]
            let c2 = padding >= 2 ? 0 : table[Int(r2)], c3 = padding >= 1 ? 0 : table[Int(r3)]
            guard (c0 | c1 | c2 | c3) & 0xC0 == 0 else { return nil }
            let bits = UInt32(c0) << 18 | UInt32(c1) << 12 | UInt32(c2) << 6 | UInt32(c3)
            output[out] = UInt8(truncatingIfNeeded: bits >> 16)
            if padding < 2 { output[out + 1] = UInt8(truncatingIfNeeded: bits >> 8) }
            if padding < 1 { output[out + 2] = UInt8(truncatingIfNeeded: bits) }
            return length
        }
    }
}
