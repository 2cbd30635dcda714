import Foundation
import RelayCore
import NIOCore

/// Turns one WebSocket frame (text or binary: the official SDK sends JSON in binary frames, Zoom in text) into an
/// `RTMSInboundMessage`. Audio takes the `AudioFrameScanner` fast path; everything else goes through `JSONDecoder`.
public enum RTMSMessageParser {
    private struct Header: Decodable {
        var msgType: Int
        enum CodingKeys: String, CodingKey { case msgType = "msg_type" }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            guard let type = c.lenientInt(.msgType) else {
                throw DecodingError.dataCorruptedError(forKey: .msgType, in: c, debugDescription: "msg_type is missing or not an integer")
            }
            msgType = type
        }
    }

    private struct AudioMessage: Decodable {
        struct Content: Decodable {
            var userID: String?
            var userName: String?
            var channelID: String?
            var data: String
            var timestamp: Int64
            enum CodingKeys: String, CodingKey { case userID = "user_id", userName = "user_name", channelID = "channel_id", data, timestamp }
            init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                userID = c.lenientString(.userID)
                userName = try? c.decodeIfPresent(String.self, forKey: .userName)
                channelID = c.lenientString(.channelID)
                data = try c.decode(String.self, forKey: .data)
                timestamp = c.lenientInt64(.timestamp) ?? 0
            }
        }
        var content: Content
    }

    /// Parses one frame's bytes.
    public static func parse(_ buffer: ByteBuffer) throws(RTMSParseError) -> RTMSInboundMessage {
        if let packet = AudioFrameScanner.scan(buffer) { return .audio(packet) }
        return try decode(buffer)
    }

    /// The `JSONDecoder` path alone (the fuzzer checks the fast path against it).
    static func decode(_ buffer: ByteBuffer) throws(RTMSParseError) -> RTMSInboundMessage {
        let data = Data(buffer.readableBytesView)
        let decoder = JSONDecoder()
        do {
            let header = try decoder.decode(Header.self, from: data)
            switch RTMSMessageType(rawValue: header.msgType) {
            case .signalingHandshakeResponse: return .signalingHandshake(try decoder.decode(SignalingHandshakeResponse.self, from: data))
            case .dataHandshakeResponse: return .dataHandshake(try decoder.decode(DataHandshakeResponse.self, from: data))
            case .keepAliveRequest: return .keepAlive(try decoder.decode(KeepAliveRequest.self, from: data))
            case .eventUpdate: return .event(try decoder.decode(EventUpdate.self, from: data))
            case .streamStateUpdate: return .streamState(try decoder.decode(StreamStateUpdate.self, from: data))
            case .sessionStateUpdate: return .sessionState(try decoder.decode(SessionStateUpdate.self, from: data))
            case .streamCloseResponse: return .streamCloseResponse(try decoder.decode(StreamCloseResponse.self, from: data))
            case .mediaDataTranscript: return .transcript(try decoder.decode(TranscriptMessage.self, from: data))
            case .mediaDataAudio:
                let content = try decoder.decode(AudioMessage.self, from: data).content
                var text = Substring(content.data)
                if text.hasPrefix("data:"), let comma = text.firstIndex(of: ",") { text = text[text.index(after: comma)...] }
                guard let pcm = RelayCore.Base64.decode(String(text)) else { throw RTMSParseError("audio data is not valid base64") }
                let channel = RTMSChannel.id(channelID: content.channelID, userID: content.userID)
                return .audio(AudioPacket(channel: channel, userName: content.userName.flatMap { $0.isEmpty ? nil : $0 },
                    timestamp: content.timestamp, pcm: ByteBuffer(bytes: pcm)))
            default:
                return .other(msgType: header.msgType)
            }
        } catch let error as RTMSParseError {
            throw error
        } catch {
            throw RTMSParseError("unreadable RTMS message: \(error)")
        }
    }
}
