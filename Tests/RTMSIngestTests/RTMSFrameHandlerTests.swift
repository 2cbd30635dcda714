import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOWebSocket
@testable import RTMSIngest
import RelayCore
import RelayTesting
import Testing

/// The fast path on its own: `RTMSFrameHandler` in NIO's testing pipeline, fed the frames Zoom sends. (Through
/// real sockets it runs in every end-to-end ingest test.)
@Suite("RTMS frame handler", .timeLimit(.minutes(1)))
struct RTMSFrameHandlerTests {
    /// What the handler handed on.
    final class Routed: Sendable {
        let batches = NIOLockedValueBox<[[RTMSInboundMessage]]>([])
        let control = NIOLockedValueBox<[RTMSInboundMessage]>([])
        let touches = NIOLockedValueBox(0)
    }

    static func audio(_ timestamp: Int64, channel: String = "1") -> String {
        #"{"msg_type":14,"content":{"user_id":7,"user_name":"Ann","channel_id":"\#(channel)","data":"AAEAAg==","timestamp":\#(timestamp)}}"#
    }

    static func frame(_ text: String, opcode: WebSocketOpcode = .text, fin: Bool = true) -> WebSocketFrame {
        WebSocketFrame(fin: fin, opcode: opcode, data: ByteBuffer(string: text))
    }

    static func channel(_ routed: Routed, metrics: IngestMetrics = IngestMetrics(), maxMessageSize: Int = 1 << 20,
                        media: (@Sendable ([RTMSInboundMessage]) -> PublishBacklog?)? = nil) async throws -> NIOAsyncTestingChannel {
        let route = RTMSMessageRoute(
            media: media ?? { batch in
                routed.batches.withLockedValue { $0.append(batch) }
                return nil
            },
            control: { message in routed.control.withLockedValue { $0.append(message) } })
        let handler = RTMSFrameHandler(maxMessageSize: maxMessageSize, metrics: metrics, logger: Logger(label: "test"), route: route,
                                       touch: { routed.touches.withLockedValue { $0 += 1 } })
        return try await NIOAsyncTestingChannel(handler: handler)
    }

    /// Fires `frames` as one socket read.
    static func read(_ frames: [WebSocketFrame], into channel: NIOAsyncTestingChannel) async throws {
        try await channel.testingEventLoop.executeInContext {
            for frame in frames { channel.pipeline.fireChannelRead(frame) }
            channel.pipeline.fireChannelReadComplete()
        }
    }

    @Test("a read's audio goes on as one batch in order, control messages one by one, keep-alives are answered on the loop (masked), pings go up the pipeline")
    func routing() async throws {
        let routed = Routed()
        let channel = try await Self.channel(routed)
        try await Self.read([Self.frame(Self.audio(1000)), Self.frame(#"{"msg_type":8,"state":1,"reason":0}"#),
                             Self.frame(Self.audio(1020), opcode: .binary), Self.frame(#"{"msg_type":12,"timestamp":1234,"sequence":5}"#),
                             Self.frame(Self.audio(1040)), Self.frame("", opcode: .ping)], into: channel)
        let batches = routed.batches.withLockedValue { $0 }
        #expect(batches.count == 1)
        let timestamps = batches.first?.compactMap { message -> Int64? in
            if case .audio(let packet) = message { return packet.timestamp } else { return nil }
        }
        #expect(timestamps == [1000, 1020, 1040])
        let control = routed.control.withLockedValue { $0 }
        #expect(control.count == 1)
        if case .streamState(let update)? = control.first { #expect(update.state == 1) } else { Issue.record("expected the stream state, got \(control)") }
        #expect(routed.touches.withLockedValue { $0 } == 6)

        let reply = try #require(try await channel.readOutbound(as: WebSocketFrame.self))
        #expect(reply.opcode == .text && reply.fin && reply.maskKey != nil)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(reply.data.readableBytesView)) as? [String: Any])
        #expect(json["msg_type"] as? Int == 13 && json["timestamp"] as? Int == 1234)
        let ping = try #require(try await channel.readInbound(as: WebSocketFrame.self))
        #expect(ping.opcode == .ping)
        #expect(try await channel.readInbound(as: WebSocketFrame.self) == nil)
    }

    @Test("a message in fragments is put back together; one past the size limit and a malformed one are counted and dropped, and the socket goes on")
    func fragmentsAndMalformed() async throws {
        let routed = Routed()
        let metrics = IngestMetrics()
        let text = Self.audio(2000)
        let cut = text.index(text.startIndex, offsetBy: 30)
        let channel = try await Self.channel(routed, metrics: metrics, maxMessageSize: 200)
        try await Self.read([Self.frame(String(text[..<cut]), fin: false), Self.frame(String(text[cut...]), opcode: .continuation)], into: channel)
        try await Self.read([Self.frame("{not json"), Self.frame(String(repeating: "x", count: 150), fin: false),
                             Self.frame(String(repeating: "y", count: 150), opcode: .continuation), Self.frame(Self.audio(2020))], into: channel)
        let timestamps = routed.batches.withLockedValue { $0 }.flatMap { $0 }.compactMap { message -> Int64? in
            if case .audio(let packet) = message { return packet.timestamp } else { return nil }
        }
        #expect(timestamps == [2000, 2020])
        #expect(metrics.malformedFramesReceived == 2)
        #expect(metrics.framesReceived == 3)
    }

    @Test("a full block queue holds the socket's media back, in order, until it has room; nothing is lost")
    func blockBackpressure() async throws {
        let sink = RecordingSink(stalled: true)
        let hub = EventHub(members: [.init(id: "slow", typeName: "recording", policy: QueuePolicy(capacity: 1, overflow: .block), sink: sink,
                                           context: SinkContext(id: "slow", logger: Logger(label: "test")))], logger: Logger(label: "test"))
        let running = Task { try await hub.run() }
        defer { running.cancel() }
        let offers = NIOLockedValueBox<[Int]>([])
        let routed = Routed()
        let channel = try await Self.channel(routed) { batch in
            offers.withLockedValue { $0.append(batch.count) }
            return hub.offer(contentsOf: batch.compactMap { message in
                guard case .audio(let packet) = message else { return nil }
                return StreamEvent(engagementID: "e", streamID: "s", kind: .audio(AudioFrame(channel: packet.channel, timestamp: packet.timestamp, pcm: packet.pcm)))
            })
        }
        try await Self.read([Self.frame(Self.audio(0)), Self.frame(Self.audio(20)), Self.frame(Self.audio(40))], into: channel)
        // The sink holds its first event; the queue (capacity 1) is full, so the second read must wait.
        try await waitUntil(timeout: .seconds(10), "the sink to take its first event") { hub.snapshot()[0].depth >= 1 }
        try await Self.read([Self.frame(Self.audio(60)), Self.frame(Self.audio(80))], into: channel)
        try await Task.sleep(for: .milliseconds(200))
        #expect(offers.withLockedValue { $0 } == [3], "the second read was published while the first still waited for room")
        await sink.release()
        try await waitUntil(timeout: .seconds(10), "all five events") {
            await channel.testingEventLoop.run()
            return sink.events.count == 5
        }
        #expect(sink.events.map(\.seq) == [1, 2, 3, 4, 5])
        #expect(sink.events.compactMap { if case .audio(let frame) = $0.kind { frame.timestamp } else { nil } } == [Int64(0), 20, 40, 60, 80])
        #expect(offers.withLockedValue { $0 } == [3, 2])
    }
}
