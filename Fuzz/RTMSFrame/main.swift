import Foundation
import FuzzSupport
import NIOCore
import RelayCore
@testable import RTMSIngest

/// RTMS frames (docs/zoom-rtms.md, "Message types"): the input is one WebSocket message's bytes. Text and binary frames
/// reach the parser the same way (`RTMSConnection` hands it the frame's bytes either way). Checked:
/// - `RTMSMessageParser.parse` returns or throws `RTMSParseError`, never crashes;
/// - the audio fast path (`AudioFrameScanner`) and the `JSONDecoder` path agree whenever both read a frame, and
///   `parse` returns the fast path's packet when there is one;
/// - an audio packet written back out as JSON parses to the same packet (decode → encode → decode).

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzRTMSFrame(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let buffer = ByteBuffer(bytes: bytes(data, size))
    let parsed = try? RTMSMessageParser.parse(buffer)
    let fast = AudioFrameScanner.scan(buffer)
    let slow = try? RTMSMessageParser.decode(buffer)
    if let fast {
        check(parsed == .audio(fast), "parse did not return the fast path's packet")
        if case .audio(let decoded)? = slow {
            check(decoded == fast, "fast path and JSONDecoder disagree: \(describe(fast)) vs \(describe(decoded))")
        }
    }
    if case .audio(let packet)? = parsed { checkRoundTrip(packet) }
    return 0
}

/// The packet as a frame Zoom could send: both id fields carry the channel so it reads back the same.
struct AudioFrame: Encodable {
    struct Content: Encodable {
        var channel_id: String
        var user_id: String
        var user_name: String?
        var data: String
        var timestamp: Int64
    }
    var msg_type = 14
    var content: Content
}

func checkRoundTrip(_ packet: AudioPacket) {
    let frame = AudioFrame(content: .init(channel_id: packet.channel, user_id: packet.channel, user_name: packet.userName,
                                          data: Base64.encode(packet.pcm.readableBytesView), timestamp: packet.timestamp))
    let encoded: Data
    do { encoded = try JSONEncoder().encode(frame) } catch { check(false, "an audio packet does not encode: \(error)"); return }
    let again = try? RTMSMessageParser.parse(ByteBuffer(bytes: encoded))
    check(again == .audio(packet), "audio packet changed in decode → encode → decode: \(describe(packet)) → \(String(decoding: encoded, as: UTF8.self))")
}

func describe(_ packet: AudioPacket) -> String {
    "channel \(packet.channel.debugDescription) user \(packet.userName.debugDescription) ts \(packet.timestamp) pcm \(packet.pcm.readableBytes) B"
}

runFuzzer(fuzzRTMSFrame)
