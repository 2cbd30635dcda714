import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization
import ZoomSimulator

/// The floor for `bench --floor`: the least work any RTMS client must do for the same calls, to divide the relay's
/// CPU per frame by. Plain NIO handlers on one event loop per core, nothing else: per stream, the signaling
/// handshake, the media handshake, CLIENT_READY_ACK, keep-alive answers on both sockets, and every audio frame
/// received and discarded (counted, not parsed). No sinks, no events, no tasks per frame.
///
/// The protocol steps are those of docs/zoom-rtms.md ("Connecting"); the simulator checks each of them.
final class FloorClient: Sendable {
    /// Audio frames received on every media socket.
    let frames = FloorCounter()
    /// Streams whose media handshake Zoom confirmed.
    let streaming = FloorCounter()
    let group: MultiThreadedEventLoopGroup
    private let clientID: String
    private let clientSecret: String

    init(clientID: String, clientSecret: String) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
    }

    /// Joins every stream; returns once each connect was started (progress is in `streaming` and `frames`).
    func join(_ streams: [StartedStream]) async throws {
        for stream in streams {
            let signature = RTMSSignature.compute(clientID: clientID, clientSecret: clientSecret, instanceID: stream.engagementID, streamID: stream.streamID)
            let handshake = Self.json(["msg_type": 1, "protocol_version": 1, "sequence": 1, "engagement_id": stream.engagementID,
                                       "rtms_stream_id": stream.streamID, "signature": signature])
            let onSignaling: @Sendable (Channel, [String: Any]) -> Void = { signaling, message in
                guard message["msg_type"] as? Int == 2, let media = Self.audioURL(message) else { return }
                let data = Self.json(["msg_type": 3, "protocol_version": 1, "sequence": 2, "engagement_id": stream.engagementID,
                                      "rtms_stream_id": stream.streamID, "signature": signature, "media_type": 1,
                                      "media_params": ["audio": ["content_type": 2, "codec": 1, "sample_rate": 1, "channel": 1, "data_opt": 2, "send_rate": 20]]])
                let ready = Self.json(["msg_type": 7, "rtms_stream_id": stream.streamID])
                self.connect(media, first: data, counting: true) { _, answer in
                    guard answer["msg_type"] as? Int == 4 else { return }
                    self.streaming.add(1)
                    FloorHandler.send(ready, on: signaling)
                }
            }
            connect(stream.serverURL, first: handshake, counting: false, onMessage: onSignaling)
        }
    }

    func shutdown() async {
        try? await group.shutdownGracefully()
    }

    private func connect(_ url: String, first: String, counting: Bool, onMessage: @escaping @Sendable (Channel, [String: Any]) -> Void) {
        guard let parsed = URL(string: url), let host = parsed.host, let port = parsed.port else { return }
        let path = parsed.path.isEmpty ? "/" : parsed.path
        let frames = counting ? self.frames : nil
        let bootstrap = ClientBootstrap(group: group).channelInitializer { channel in
            let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: 1 << 20) { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FloorHandler(first: first, counter: frames, onMessage: onMessage))
                }
            }
            let request = FloorUpgradeRequest(host: "\(host):\(port)", path: path)
            return channel.pipeline.addHTTPClientHandlers(
                leftOverBytesStrategy: .forwardBytes,
                withClientUpgrade: (upgraders: [upgrader], completionHandler: { context in
                    context.pipeline.removeHandler(name: FloorUpgradeRequest.name, promise: nil)
                })
            ).flatMap {
                channel.pipeline.addHandler(request, name: FloorUpgradeRequest.name)
            }
        }
        bootstrap.connect(host: host, port: port).whenFailure { _ in }
    }

    private static func audioURL(_ message: [String: Any]) -> String? {
        guard let server = message["media_server"] as? [String: Any], let urls = server["server_urls"] as? [String: Any] else { return nil }
        return (urls["audio"] as? String) ?? (urls["all"] as? String)
    }

    static func json(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data(), as: UTF8.self)
    }
}

/// A count shared by the floor's event loops.
final class FloorCounter: Sendable {
    private let atomic = Atomic<Int>(0)
    var value: Int { atomic.load(ordering: .relaxed) }
    func add(_ count: Int) { atomic.add(count, ordering: .relaxed) }
}

/// Sends the WebSocket upgrade request once the socket is open.
private final class FloorUpgradeRequest: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart
    static let name = "floor-upgrade-request"
    let host: String
    let path: String

    init(host: String, path: String) {
        self.host = host
        self.path = path
    }

    func channelActive(context: ChannelHandlerContext) {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: host)
        head.headers.add(name: "Content-Length", value: "0")
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }
}

/// One socket of the floor: sends `first` when the WebSocket is up, answers pings and keep-alives, counts large
/// frames (audio) when it has a counter, hands the other messages to `onMessage`.
private final class FloorHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame
    private let first: String
    private let counter: FloorCounter?
    private let onMessage: @Sendable (Channel, [String: Any]) -> Void
    private var counted = 0

    init(first: String, counter: FloorCounter?, onMessage: @escaping @Sendable (Channel, [String: Any]) -> Void) {
        self.first = first
        self.counter = counter
        self.onMessage = onMessage
    }

    /// Audio messages are the only ones this large; smaller ones are read.
    private static let audioSize = 600

    func handlerAdded(context: ChannelHandlerContext) {
        Self.send(first, on: context.channel)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .ping:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            context.close(promise: nil)
        case .text, .binary:
            if counter != nil, frame.data.readableBytes > Self.audioSize {
                counted += 1
                return
            }
            guard let message = (try? JSONSerialization.jsonObject(with: Data(frame.data.readableBytesView))) as? [String: Any] else { return }
            if message["msg_type"] as? Int == 12 {
                Self.send(FloorClient.json(["msg_type": 13, "timestamp": message["timestamp"] ?? 0]), on: context.channel)
            } else {
                onMessage(context.channel, message)
            }
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if counted > 0 {
            counter?.add(counted)
            counted = 0
        }
        context.fireChannelReadComplete()
    }

    static func send(_ text: String, on channel: Channel) {
        let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: channel.allocator.buffer(string: text))
        channel.writeAndFlush(frame, promise: nil)
    }
}
