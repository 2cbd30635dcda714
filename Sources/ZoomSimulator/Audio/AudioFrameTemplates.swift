import Foundation
import NIOCore

/// Pre-encoded MEDIA_DATA_AUDIO (14) messages: the JSON and base64 of every frame of the audio cycle are built
/// once, with the timestamp as the last field, so sending a frame only splices the timestamp digits. This is
/// what lets one process play a thousand calls.
struct AudioFrameTemplates: Sendable {
    /// `prefixes[channel][index % cycle]` ends right before the timestamp digits.
    private let prefixes: [[[UInt8]]]
    private static let suffix: [UInt8] = Array("}}".utf8)

    static let shared = AudioFrameTemplates()

    init() {
        prefixes = (0..<SimulatedAudio.channelIDs.count).map { channel in
            (0..<SimulatedAudio.cycleFrames).map { index in
                Self.prefix(channel: channel, pcm: SimulatedAudio.frame(channel: channel, index: index))
            }
        }
    }

    /// The JSON up to the timestamp value for arbitrary PCM (also used for send rates above 20 ms).
    static func prefix(channel: Int, pcm: [UInt8]) -> [UInt8] {
        let json = "{\"msg_type\":14,\"content\":{\"user_id\":0,\"user_name\":\"\(SimulatedAudio.participantNames[channel])\","
            + "\"channel_id\":\"\(SimulatedAudio.channelID(channel))\",\"data\":\"\(Data(pcm).base64EncodedString())\","
            + "\"length\":\(pcm.count),\"timestamp\":"
        return Array(json.utf8)
    }

    /// The complete message of one 20 ms frame.
    func message(channel: Int, index: Int, timestamp: Int64, allocator: ByteBufferAllocator) -> ByteBuffer {
        Self.message(prefix: prefixes[channel][index % SimulatedAudio.cycleFrames], timestamp: timestamp, allocator: allocator)
    }

    /// A message of several consecutive frames (for `send_rate` > 20), encoded on the spot.
    func message(channel: Int, indices: Range<Int>, timestamp: Int64, allocator: ByteBufferAllocator) -> ByteBuffer {
        var pcm = [UInt8]()
        for index in indices { pcm += SimulatedAudio.frame(channel: channel, index: index) }
        return Self.message(prefix: Self.prefix(channel: channel, pcm: pcm), timestamp: timestamp, allocator: allocator)
    }

    private static func message(prefix: [UInt8], timestamp: Int64, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: prefix.count + 24)
        buffer.writeBytes(prefix)
        buffer.writeString(String(timestamp))
        buffer.writeBytes(suffix)
        return buffer
    }
}
