import Logging
import NIOCore
import NIOWebSocket
import RelayCore

/// Where one socket's parsed messages go, both called on the socket's event loop.
struct RTMSMessageRoute: Sendable {
    /// Media (audio and transcripts) of one read, in arrival order; returns what full `block` queues could not take
    /// yet.
    var media: @Sendable ([RTMSInboundMessage]) -> PublishBacklog?
    /// Every other message (handshakes, states, events), for the session's state machine. Must not block.
    var control: @Sendable (RTMSInboundMessage) -> Void
}

/// The RTMS fast path: a NIO handler right after the WebSocket frame decoder that reassembles and parses every
/// data frame on the event loop, answers KEEP_ALIVE_REQ there, hands each read's media to `route.media` as one
/// batch, and each control message to `route.control`.
///
/// Only WebSocket control frames (ping, pong, close) go on up the pipeline, to the async frame loop that handles
/// them; no task wakes up per audio frame. When a `block` sink queue is full, the socket stops reading until the
/// events have room (TCP backpressure to Zoom), and what it read meanwhile is held back in order.
final class RTMSFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let maxMessageSize: Int
    private let metrics: IngestMetrics
    private let logger: Logger
    private let route: RTMSMessageRoute
    /// Called for every inbound frame: the connection's liveness clock.
    private let touch: @Sendable () -> Void

    /// A text or binary message whose continuation frames are still coming.
    private var fragments: ByteBuffer?
    /// The media of this read, handed on at `channelReadComplete`.
    private var media: [RTMSInboundMessage] = []
    /// Set while a backlog is being delivered: media is held in `media` until it is done.
    private var blocked = false

    init(maxMessageSize: Int, metrics: IngestMetrics, logger: Logger, route: RTMSMessageRoute,
         touch: @escaping @Sendable () -> Void) {
        self.maxMessageSize = maxMessageSize
        self.metrics = metrics
        self.logger = logger
        self.route = route
        self.touch = touch
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        touch()
        // Zoom's SDK sends JSON in binary frames, Zoom itself in text frames: accept both.
        var message: ByteBuffer
        switch frame.opcode {
        case .text, .binary:
            if !frame.fin {
                fragments = frame.data
                return
            }
            fragments = nil
            message = frame.data
        case .continuation:
            guard var buffer = fragments else { return }
            var data = frame.data
            buffer.writeBuffer(&data)
            guard buffer.readableBytes <= maxMessageSize else {
                fragments = nil
                metrics.malformed()
                return
            }
            if !frame.fin {
                fragments = buffer
                return
            }
            fragments = nil
            message = buffer
        default:
            context.fireChannelRead(data)
            return
        }
        metrics.frameReceived(bytes: message.readableBytes)
        let parsed: RTMSInboundMessage
        do {
            parsed = try RTMSMessageParser.parse(message)
        } catch {
            metrics.malformed()
            logger.warning("malformed RTMS frame ignored", metadata: ["error": "\(error)"])
            return
        }
        switch parsed {
        case .keepAlive(let request):
            var reply = context.channel.allocator.buffer(capacity: 64)
            reply.writeString(Wire.encode(KeepAliveResponse(timestamp: request.timestamp, sequence: request.sequence)))
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: reply)), promise: nil)
        case .audio, .transcript:
            media.append(parsed)
        default:
            route.control(parsed)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        handOnMedia(context: context)
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // What the last read left (a read is always followed by its read-complete, but be sure).
        handOnMedia(context: context)
        context.fireChannelInactive()
    }

    private func handOnMedia(context: ChannelHandlerContext) {
        guard !blocked, !media.isEmpty else { return }
        let batch = media
        media.removeAll(keepingCapacity: true)
        guard let backlog = route.media(batch) else { return }
        // A full `block` queue: read nothing more until it has room, and keep later media behind it.
        blocked = true
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        let loop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: loop)
        Task {
            await backlog.deliver()
            loop.execute {
                let (handler, context) = bound.value
                handler.blocked = false
                handler.handOnMedia(context: context)
                if !handler.blocked {
                    context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
                }
            }
        }
    }
}
