import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RelayCore

/// A small HTTP proxy on loopback, as an enterprise network puts in front of the relay: `CONNECT host:port`
/// opens a tunnel, which is all the relay asks of a proxy (its WebSockets and AsyncHTTPClient tunnel every
/// connection, plain `http://` too); other methods get `405`. It records every request line, and can demand
/// Basic credentials (`407` without them).
public final class TestProxy: Sendable {
    public let port: Int
    private let channel: any Channel
    private let state: NIOLockedValueBox<State>

    struct State {
        /// `CONNECT localhost:4567`, `CONNECT 127.0.0.1:4568`: what was asked, in order.
        var requests: [String] = []
        var refused = 0
    }

    /// Every request line the proxy accepted, in order.
    public var requests: [String] { state.withLockedValue { $0.requests } }
    /// Requests answered 407 for missing or wrong credentials.
    public var refused: Int { state.withLockedValue { $0.refused } }

    /// - Parameter credentials: `user:password` to demand in `Proxy-Authorization: Basic`; nil lets everyone in.
    public static func start(credentials: String? = nil) async throws -> TestProxy {
        let state = NIOLockedValueBox(State())
        let expected = credentials.map { "Basic " + Base64.encode(Array($0.utf8)) }
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FrontHandler(state: state, expectedAuthorization: expected))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TestProxy(port: channel.localAddress?.port ?? 0, channel: channel, state: state)
    }

    private init(port: Int, channel: any Channel, state: NIOLockedValueBox<State>) {
        self.port = port
        self.channel = channel
        self.state = state
    }

    public func stop() async {
        try? await channel.close()
    }

    /// Reads the request head, then connects to the target and pipes bytes both ways.
    private final class FrontHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let state: NIOLockedValueBox<State>
        let expectedAuthorization: String?
        private var head = ByteBuffer()
        /// Bytes that came while the target connection was being made.
        private var pending: [ByteBuffer] = []
        private var peer: (any Channel)?
        private var connecting = false

        init(state: NIOLockedValueBox<State>, expectedAuthorization: String?) {
            self.state = state
            self.expectedAuthorization = expectedAuthorization
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            if let peer {
                peer.writeAndFlush(bytes, promise: nil)
                return
            }
            if connecting {
                pending.append(bytes)
                return
            }
            head.writeBuffer(&bytes)
            let text = String(buffer: head)
            guard let end = text.range(of: "\r\n\r\n") else {
                if head.readableBytes > 16_384 { context.close(promise: nil) }
                return
            }
            let lines = text[..<end.lowerBound].components(separatedBy: "\r\n")
            let parts = lines[0].split(separator: " ").map(String.init)
            guard parts.count == 3 else { return answer(context, "400 Bad Request") }
            if let expectedAuthorization {
                let given = lines.dropFirst().first { $0.lowercased().hasPrefix("proxy-authorization:") }
                    .map { $0.dropFirst("proxy-authorization:".count).trimmingCharacters(in: .whitespaces) }
                guard given == expectedAuthorization else {
                    state.withLockedValue { $0.refused += 1 }
                    return answer(context, "407 Proxy Authentication Required", headers: "Proxy-Authenticate: Basic realm=\"test\"\r\n")
                }
            }
            let (method, target) = (parts[0], parts[1])
            guard method == "CONNECT", let colon = target.lastIndex(of: ":"), let port = Int(target[target.index(after: colon)...]) else {
                return answer(context, "405 Method Not Allowed")
            }
            let host = String(target[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            state.withLockedValue { $0.requests.append("\(method) \(target)") }
            var rest = head
            rest.moveReaderIndex(forwardBy: text[..<end.upperBound].utf8.count)
            connecting = true
            let front = context.channel
            let early = rest
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            ClientBootstrap(group: context.eventLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(BackHandler(front: front)) }
                }
                .connect(host: host, port: port)
                .whenComplete { result in
                    let (handler, context) = loopBound.value
                    switch result {
                    case .success(let channel):
                        handler.peer = channel
                        context.writeAndFlush(handler.wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 200 Connection Established\r\n\r\n")), promise: nil)
                        if early.readableBytes > 0 { channel.write(early, promise: nil) }
                        for bytes in handler.pending { channel.write(bytes, promise: nil) }
                        handler.pending = []
                        channel.flush()
                    case .failure:
                        handler.answer(context, "502 Bad Gateway")
                    }
                }
        }

        func channelInactive(context: ChannelHandlerContext) {
            peer?.close(promise: nil)
            context.fireChannelInactive()
        }

        private func answer(_ context: ChannelHandlerContext, _ status: String, headers: String = "") {
            let closed = context.eventLoop.makePromise(of: Void.self)
            closed.futureResult.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 \(status)\r\n\(headers)Content-Length: 0\r\nConnection: close\r\n\r\n")),
                                  promise: closed)
        }
    }

    /// The target's bytes back to the client.
    private final class BackHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let front: any Channel

        init(front: any Channel) { self.front = front }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            front.writeAndFlush(unwrapInboundIn(data), promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            front.close(promise: nil)
            context.fireChannelInactive()
        }
    }
}
