#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import RelayCore

/// A hand-written reader for MEDIA_DATA_AUDIO (14), the message that arrives 50 times a second per party.
///
/// It walks the JSON once without building any objects: it checks `msg_type` is 14, finds `content.data`,
/// `timestamp`, `channel_id`/`user_id` and `user_name`, and base64-decodes `data` straight from the frame's
/// bytes. Anything unusual (escapes inside the strings it needs, other message types, odd shapes) returns nil
/// and the caller falls back to `JSONDecoder`, so the scanner only has to be right, never complete.
enum AudioFrameScanner {
    /// The audio packet in `buffer`, or nil when it is not a plain audio message.
    static func scan(_ buffer: ByteBuffer) -> AudioPacket? {
        buffer.withUnsafeReadableBytes { bytes in
            var scanner = Cursor(bytes: bytes)
            return scanner.audioPacket()
        }
    }

    private struct Cursor {
        let bytes: UnsafeRawBufferPointer
        var index = 0
        /// The keys read so far. A repeated one sends the frame to `JSONDecoder`, which keeps the first value (the
        /// fuzzer found this path keeping the last `data` instead).
        var seen: Keys = []

        struct Keys: OptionSet {
            let rawValue: UInt8
            static let msgType = Keys(rawValue: 1 << 0), content = Keys(rawValue: 1 << 1), data = Keys(rawValue: 1 << 2)
            static let timestamp = Keys(rawValue: 1 << 3), channelID = Keys(rawValue: 1 << 4), userID = Keys(rawValue: 1 << 5)
            static let userName = Keys(rawValue: 1 << 6)
        }

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func audioPacket() -> AudioPacket? {
            var msgType: Int64?
            var data: Range<Int>?
            var timestamp: Int64?
            var channelID: String?
            var userID: String?
            var userName: String?
            guard consume(UInt8(ascii: "{")) else { return nil }
            if peek(UInt8(ascii: "}")) { return nil }
            repeat {
                guard let key = string() else { return nil }
                guard consume(UInt8(ascii: ":")) else { return nil }
                if equals(key, "msg_type") {
                    guard seen.insert(.msgType).inserted, let value = integer() else { return nil }
                    // Bail out early: everything else goes through JSONDecoder.
                    guard value == 14 else { return nil }
                    msgType = value
                } else if equals(key, "content") {
                    guard seen.insert(.content).inserted, consume(UInt8(ascii: "{")) else { return nil }
                    if !peek(UInt8(ascii: "}")) {
                        repeat {
                            guard let field = string() else { return nil }
                            guard consume(UInt8(ascii: ":")) else { return nil }
                            if equals(field, "data") {
                                guard seen.insert(.data).inserted, let range = base64String() else { return nil }
                                data = range
                            } else if equals(field, "timestamp") {
                                guard seen.insert(.timestamp).inserted, let value = integer() else { return nil }
                                timestamp = value
                            } else if equals(field, "channel_id") {
                                guard seen.insert(.channelID).inserted, let text = stringOrNumberText() else { return nil }
                                channelID = text
                            } else if equals(field, "user_id") {
                                guard seen.insert(.userID).inserted, let text = stringOrNumberText() else { return nil }
                                userID = text
                            } else if equals(field, "user_name") {
                                guard seen.insert(.userName).inserted else { return nil }
                                if peekNull() { index += 4; continue }
                                guard let range = string(), let name = text(range) else { return nil }
                                userName = name
                            } else {
                                guard skipValue() else { return nil }
                            }
                        } while consume(UInt8(ascii: ","))
                    }
                    guard consume(UInt8(ascii: "}")) else { return nil }
                } else {
                    guard skipValue() else { return nil }
                }
            } while consume(UInt8(ascii: ","))
            guard consume(UInt8(ascii: "}")), msgType == 14, let data, let timestamp else { return nil }
            guard let pcm = decodeBase64(data) else { return nil }
            let channel = RTMSChannel.id(channelID: channelID, userID: userID)
            return AudioPacket(channel: channel, userName: userName.flatMap { $0.isEmpty ? nil : $0 }, timestamp: timestamp, pcm: pcm)
        }

        // MARK: Tokens

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func peek(_ byte: UInt8) -> Bool {
            skipWhitespace()
            return index < bytes.count && bytes[index] == byte
        }

        mutating func peekNull() -> Bool {
            skipWhitespace()
            return index + 4 <= bytes.count && bytes[index] == UInt8(ascii: "n") && bytes[index + 1] == UInt8(ascii: "u")
                && bytes[index + 2] == UInt8(ascii: "l") && bytes[index + 3] == UInt8(ascii: "l")
        }

        /// The byte range of a string's contents; nil if it is not a string or holds an escape (fallback path).
        mutating func string() -> Range<Int>? {
            guard consume(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return start..<(index - 1)
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
                index += 1
            }
            return nil
        }

        /// The byte range of a string that should hold base64, found with `memchr`: the bulk of every frame.
        /// Escapes are not looked for: a backslash is not base64, so the decoder refuses such a string and the
        /// caller falls back to `JSONDecoder`.
        mutating func base64String() -> Range<Int>? {
            guard consume(UInt8(ascii: "\"")), let base = bytes.baseAddress else { return nil }
            let start = index
            guard let quote = memchr(base + start, Int32(UInt8(ascii: "\"")), bytes.count - start) else { return nil }
            index = base.distance(to: UnsafeRawPointer(quote)) + 1
            return start..<(index - 1)
        }

        mutating func integer() -> Int64? {
            skipWhitespace()
            var value: Int64 = 0
            var negative = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
                negative = true
                index += 1
            }
            let start = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                guard index - start < 18 else { return nil }
                value = value * 10 + Int64(bytes[index] - 48)
                index += 1
            }
            guard index > start else { return nil }
            // JSON has no leading zeros; `JSONDecoder` refuses `0869…` as a number (found by the fuzzer): fall back.
            guard bytes[start] != UInt8(ascii: "0") || index == start + 1 else { return nil }
            // A fraction or exponent is not an integer: fall back.
            if index < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index]) { return nil }
            return negative ? -value : value
        }

        mutating func stringOrNumberText() -> String? {
            if peek(UInt8(ascii: "\"")) { return string().flatMap(text) }
            return integer().map { String($0) }
        }

        /// Skips any JSON value (strings with escapes included).
        mutating func skipValue(depth: Int = 0) -> Bool {
            guard depth < 32 else { return false }
            skipWhitespace()
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                index += 1
                while index < bytes.count {
                    if bytes[index] == UInt8(ascii: "\\") { index += 2; continue }
                    if bytes[index] == UInt8(ascii: "\"") { index += 1; return true }
                    index += 1
                }
                return false
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let close = bytes[index] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                let isObject = close == UInt8(ascii: "}")
                index += 1
                if consume(close) { return true }
                repeat {
                    if isObject {
                        guard string() != nil || skipValue(depth: depth + 1), consume(UInt8(ascii: ":")) else { return false }
                    }
                    guard skipValue(depth: depth + 1) else { return false }
                } while consume(UInt8(ascii: ","))
                return consume(close)
            default:
                // Numbers, true, false, null: up to the next delimiter.
                let start = index
                while index < bytes.count {
                    switch bytes[index] {
                    case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D: return index > start
                    default: index += 1
                    }
                }
                return false
            }
        }

        func equals(_ range: Range<Int>, _ literal: StaticString) -> Bool {
            guard range.count == literal.utf8CodeUnitCount else { return false }
            let pointer = literal.utf8Start
            for offset in 0..<range.count where bytes[range.lowerBound + offset] != pointer[offset] { return false }
            return true
        }

        /// The string's text; nil when it is not valid UTF-8, which `JSONDecoder` then judges (the fuzzer found
        /// the two paths disagreeing when this repaired bad bytes into U+FFFD instead).
        func text(_ range: Range<Int>) -> String? {
            String(validating: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        }

        func decodeBase64(_ range: Range<Int>) -> ByteBuffer? {
            var slice = UnsafeRawBufferPointer(rebasing: bytes[range])
            // Defensive: one official sample strips a `data:…;base64,` prefix.
            if slice.count > 5, slice[0] == UInt8(ascii: "d"), slice[4] == UInt8(ascii: ":"),
               let comma = slice.firstIndex(of: UInt8(ascii: ",")) {
                slice = UnsafeRawBufferPointer(rebasing: slice[(comma + 1)...])
            }
            // Straight into the buffer the event will carry: one allocation, no copy.
            guard let length = Base64.decodedCount(utf8: slice) else { return nil }
            var buffer = ByteBufferAllocator().buffer(capacity: length)
            var valid = true
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { output in
                let written = Base64.decode(utf8: slice, into: output)
                valid = written != nil
                return written ?? 0
            }
            return valid ? buffer : nil
        }
    }
}
