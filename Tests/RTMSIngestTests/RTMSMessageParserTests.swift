import Foundation
import NIOCore
import RelayCore
import Testing
@testable import RTMSIngest

@Suite("RTMS frame parsing (docs/zoom-rtms.md, \"Message types\")")
struct RTMSMessageParserTests {
    static let pcm: [UInt8] = (0..<640).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    static let b64 = Base64.encode(pcm)

    func parse(_ text: String) throws -> RTMSInboundMessage {
        try RTMSMessageParser.parse(ByteBuffer(string: text))
    }

    @Test("a ZCC audio frame decodes to the exact PCM with channel_id as the channel, on the fast path")
    func zccAudio() throws {
        let text = #"{"msg_type":14,"content":{"user_id":0,"user_name":"Sim Agent","channel_id":"1","data":"\#(Self.b64)","length":640,"timestamp":1738392033699}}"#
        let expected = AudioPacket(channel: "1", userName: "Sim Agent", timestamp: 1_738_392_033_699, pcm: ByteBuffer(bytes: Self.pcm))
        #expect(AudioFrameScanner.scan(ByteBuffer(string: text)) == expected)
        #expect(try parse(text) == .audio(expected))
    }

    @Test("key order, whitespace and unknown fields do not matter; user_id is the channel without channel_id")
    func audioShapes() throws {
        let text = "{ \"content\" : {\"timestamp\": 5, \"extra\": {\"a\":[1,2,{\"b\":\"x\\\"y\"}]}, \"data\":\"\(Self.b64)\", \"user_id\": 16778240 },\n \"msg_type\" : 14 }"
        #expect(AudioFrameScanner.scan(ByteBuffer(string: text)) == AudioPacket(channel: "16778240", userName: nil, timestamp: 5, pcm: ByteBuffer(bytes: Self.pcm)))
    }

    @Test("escaped slashes in the base64 fall back to JSONDecoder and still decode exactly")
    func escapedFallback() throws {
        let escaped = Self.b64.replacingOccurrences(of: "/", with: "\\/")
        let text = #"{"msg_type":14,"content":{"user_id":"7","user_name":"A\u00e9","data":"\#(escaped)","timestamp":9}}"#
        #expect(Self.b64.contains("/"))
        #expect(AudioFrameScanner.scan(ByteBuffer(string: text)) == nil)
        #expect(try parse(text) == .audio(AudioPacket(channel: "7", userName: "Aé", timestamp: 9, pcm: ByteBuffer(bytes: Self.pcm))))
    }

    @Test("control messages decode into their wire types")
    func controlMessages() throws {
        #expect(try parse(#"{"msg_type":2,"protocol_version":1,"sequence":0,"status_code":0,"reason":"","media_server":{"server_urls":{"audio":"wss://a/audio","all":"wss://a/all"}}}"#)
            == .signalingHandshake(SignalingHandshakeResponse(statusCode: 0, mediaURLs: ["audio": "wss://a/audio", "all": "wss://a/all"])))
        #expect(try parse(#"{"msg_type":12,"timestamp":1738392033699,"sequence":4}"#) == .keepAlive(KeepAliveRequest(timestamp: 1_738_392_033_699, sequence: 4)))
        #expect(try parse(#"{"msg_type":8,"state":4,"reason":"6","timestamp":1}"#) == .streamState(StreamStateUpdate(state: 4, reason: 6)))
        #expect(try parse(#"{"msg_type":9,"state":5,"reason":21,"rtms_session_id":"s"}"#) == .sessionState(SessionStateUpdate(state: 5, stopReason: 21, sessionID: "s")))
        #expect(try parse(#"{"msg_type":22,"status_code":0,"reason":"OK"}"#) == .streamCloseResponse(StreamCloseResponse(statusCode: 0, reason: "OK")))
        #expect(try parse(#"{"msg_type":15,"content":{}}"#) == .other(msgType: 15))
        let event = try parse(#"{"msg_type":6,"event":{"event_type":12,"event_ts":1,"paticipant_info":{"channel_id":"2","display_name":"Caller"}}}"#)
        guard case .event(let update) = event else { Issue.record("not an event"); return }
        #expect(update.eventType == 12)
        #expect(update.participant == ["channel_id": "2", "display_name": "Caller"])
        let transcript = try parse(#"{"msg_type":17,"content":{"user_id":0,"user_name":"Sim Caller","channel_id":"2","data":"hello","start_time":1,"end_time":2,"timestamp":1,"language":9}}"#)
        guard case .transcript(let message) = transcript else { Issue.record("not a transcript"); return }
        #expect(message.text == "hello")
        #expect(message.channelID == "2")
    }

    @Test("malformed frames are errors, never crashes", arguments: [
        "", "{", "[]", "null", "{\"msg_type\":\"x\"}", "{\"content\":{}}", #"{"msg_type":14,"content":{"data":"@@@@","timestamp":1}}"#,
        #"{"msg_type":14,"content":{"timestamp":1}}"#, #"{"msg_type":14,"content":{"data":"AAA","timestamp":1}}"#, "\u{0}\u{1}\u{2}",
    ])
    func malformed(text: String) {
        #expect(throws: RTMSParseError.self) { try parse(text) }
    }

    @Test("every truncation and single-byte corruption of a valid frame parses or throws, never crashes")
    func fuzz() {
        let text = #"{"msg_type":14,"content":{"user_id":0,"user_name":"Sim Agent","channel_id":"1","data":"\#(Base64.encode(Self.pcm.prefix(30)))","length":30,"timestamp":17}}"#
        let bytes = Array(text.utf8)
        for length in 0..<bytes.count {
            _ = try? RTMSMessageParser.parse(ByteBuffer(bytes: bytes.prefix(length)))
        }
        for index in bytes.indices {
            for replacement in [UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "\\"), 0, 0xFF] {
                var corrupted = bytes
                corrupted[index] = replacement
                _ = try? RTMSMessageParser.parse(ByteBuffer(bytes: corrupted))
            }
        }
    }

    @Test("deeply nested junk inside an audio frame is skipped without exhausting the stack")
    func deepNesting() {
        let junk = String(repeating: "[", count: 10_000)
        let text = #"{"msg_type":14,"content":{"x":\#(junk)}}"#
        #expect(throws: RTMSParseError.self) { try parse(text) }
    }

    /// An input `fuzz-rtms-frame` found, as committed in its seed corpus (docs/reliability.md, Fuzzing).
    static func fuzzerInput(_ name: String) throws -> ByteBuffer {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fuzz/Corpus/rtms-frame")
        return ByteBuffer(bytes: try Data(contentsOf: corpus.appendingPathComponent(name)))
    }

    /// An official-SDK audio frame whose `user_name` holds bytes that are not UTF-8: the fast path used to repair
    /// them into U+FFFD while `JSONDecoder` dropped the name, so one frame read two ways depending on the path.
    @Test("a name that is not UTF-8 leaves the fast path, and the frame reads the same either way")
    func invalidUTF8Name() throws {
        let buffer = try Self.fuzzerInput("crash-385d614b5ca8f962a71ce2197815958d3f2cced8")
        #expect(AudioFrameScanner.scan(buffer) == nil)
        let parsed = try RTMSMessageParser.parse(buffer)
        #expect(parsed == (try RTMSMessageParser.decode(buffer)))
        guard case .audio(let packet) = parsed else { Issue.record("not audio: \(parsed)"); return }
        #expect(packet.channel == "16778240" && packet.userName == nil && packet.timestamp == 1_795_557_308_796 && packet.pcm.readableBytes == 289)
    }

    /// A simulator audio frame with `data` twice: the fast path used to keep the last value, `JSONDecoder` keeps the first.
    @Test("a repeated key leaves the fast path, and the first value counts either way")
    func repeatedKey() throws {
        let buffer = try Self.fuzzerInput("crash-d700d28b2848764ddc41d565bfb0d0baaa4d88f3")
        #expect(AudioFrameScanner.scan(buffer) == nil)
        guard case .audio(let packet) = try RTMSMessageParser.parse(buffer) else { Issue.record("not audio"); return }
        #expect(packet.channel == "1" && packet.pcm.readableBytes == 156)

        // Each key the fast path reads, given twice with different values.
        let fields = [(#""data":"AAAA""#, #""data":"BBBB""#), (#""timestamp":5"#, #""timestamp":6"#), (#""channel_id":"2""#, #""channel_id":"7""#),
                      (#""user_id":3"#, #""user_id":8"#), (#""user_name":"A""#, #""user_name":null"#)]
        #expect(AudioFrameScanner.scan(ByteBuffer(string: #"{"msg_type":14,"content":{"# + fields.map(\.0).joined(separator: ",") + "}}")) != nil)
        for (first, second) in fields {
            let text = #"{"msg_type":14,"content":{"# + ([first] + fields.map(\.0).filter { $0 != first } + [second]).joined(separator: ",") + "}}"
            #expect(AudioFrameScanner.scan(ByteBuffer(string: text)) == nil, "\(text)")
        }
        #expect(AudioFrameScanner.scan(ByteBuffer(string: #"{"msg_type":14,"msg_type":14,"content":{"data":"AAAA","timestamp":1}}"#)) == nil)
    }

    /// A simulator audio frame with `"timestamp":0869196016849`: the fast path read 869196016849, `JSONDecoder`
    /// refuses a number with a leading zero (and the lenient reader then gives 0).
    @Test("a number with a leading zero leaves the fast path, and the frame reads the same either way")
    func leadingZero() throws {
        let buffer = try Self.fuzzerInput("crash-9d50027d40da0115cdb6a009a07361b83d38beeb")
        #expect(AudioFrameScanner.scan(buffer) == nil)
        #expect(try RTMSMessageParser.parse(buffer) == RTMSMessageParser.decode(buffer))
        for number in ["0", "-0", "7", "-12"] {
            #expect(AudioFrameScanner.scan(ByteBuffer(string: #"{"msg_type":14,"content":{"data":"AAAA","timestamp":\#(number),"user_id":\#(number)}}"#))?.timestamp == Int64(number))
        }
        for number in ["00", "01", "-05"] {
            #expect(AudioFrameScanner.scan(ByteBuffer(string: #"{"msg_type":14,"content":{"data":"AAAA","timestamp":\#(number)}}"#)) == nil)
        }
    }
}

@Suite("rtms_allowed_hosts (docs/rtms-url-rules.md)")
struct HostAllowListTests {
    @Test("exact hosts and *.domain patterns match; everything else is refused")
    func matching() {
        let list = HostAllowList(["*.zoom.us", "127.0.0.1"])
        #expect(list.allows(url: "wss://rtms-sjc1.zoom.us/signal?x=1"))
        #expect(list.allows(url: "wss://127.0.0.1:8080/signaling"))
        #expect(!list.allows(url: "wss://zoom.us/x"))
        #expect(!list.allows(url: "wss://evilzoom.us/x"))
        #expect(!list.allows(url: "wss://zoom.us.evil.com/x"))
        #expect(!list.allows(url: "wss://rtms.zoom.us@evil.com/x"))
        #expect(!list.allows(url: "https://rtms.zoom.us/x"))
        #expect(!list.allows(url: "wss://127.0.0.2/x"))
        #expect(!list.allows(url: "wss://127.0.0.1:80x/"))
        #expect(!list.allows(url: "not a url"))
    }

    @Test("security #5: NUL, control characters, backslash, percent-encoding and trailing dots are refused, not matched")
    func knownBypasses() {
        let list = HostAllowList(["*.zoom.us", "127.0.0.1"], allowInsecure: true)
        for bad in ["ws://127.0.0.2\u{0}.zoom.us:6379/", "wss://127.0.0.2\u{0}.zoom.us/", "wss://a.zoom.us\u{0}/x", "wss://a.zoom.us/x\u{0}y",
                    "wss://a.zoom.us/\r\nX-Injected: 1", "wss://a.zoom.us\t/x", "wss://evil.com\\.zoom.us/x", "wss://evil.com\\@a.zoom.us/",
                    "wss://127%2e0%2e0%2e2.zoom.us/", "wss://%31%32%37.0.0.1/", "wss://a.zoom.us./x", "wss://a..zoom.us/x",
                    "wss://a.zoom.us:0/", "wss://a.zoom.us:65536/", "wss://a.zoom.us:+443/", "wss://[::1%25eth0]/"] {
            #expect(!list.allows(url: bad), "\(bad.debugDescription) passed")
        }
    }

    @Test("security #5: the scheme is case-insensitive and WSS:// is TLS; ws:// needs zoom.allow_insecure_rtms")
    func schemes() throws {
        let strict = HostAllowList(["*.zoom.us", "127.0.0.1"])
        #expect(!strict.allows(url: "ws://a.zoom.us/x"))
        #expect(!strict.allows(url: "WS://A.ZOOM.US/x"))
        #expect(!strict.allows(url: "ws://127.0.0.1:8080/signaling"))
        let upper = try strict.check("WSS://A.B.ZOOM.US:443/x").get()
        #expect(upper.usesTLS)
        #expect(upper.host == "a.b.zoom.us")
        #expect(upper.connectString == "wss://a.b.zoom.us:443/x")
        let insecure = HostAllowList(["127.0.0.1"], allowInsecure: true)
        let plain = try insecure.check("WS://127.0.0.1:8080/signaling").get()
        #expect(!plain.usesTLS && plain.effectivePort == 8080 && plain.connectString == "ws://127.0.0.1:8080/signaling")
    }

    @Test("security #5: an IP literal passes only when listed exactly, never through a *.domain pattern or a numeric alias")
    func ipLiterals() {
        let list = HostAllowList(["*.zoom.us", "*.0.1", "127.0.0.1", "[::1]"])
        #expect(list.allows(url: "wss://127.0.0.1/x"))
        #expect(list.allows(url: "wss://[::1]:9000/x"))
        #expect(!list.allows(url: "wss://10.0.0.1/x"))
        #expect(!list.allows(url: "wss://127.0.0.1.zoom.us.127.0.0.1/x"))
        // Numeric forms a C resolver reads as 127.0.0.1 are not the listed literal, and not host names either.
        for alias in ["wss://2130706433/", "wss://127.1/", "wss://0x7f.0.0.1/", "wss://0177.0.0.1/", "wss://127.000.000.001/", "wss://[::ffff:7f00:1]/"] {
            #expect(!list.allows(url: alias), "\(alias) passed")
        }
    }
}
