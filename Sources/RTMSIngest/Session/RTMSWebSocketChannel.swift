import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOSSL
import NIOWebSocket
import RelayCore
import WSClient
// `WebSocketHandler` (the frame loop behind `WebSocketClient`) is SPI: the relay needs it because the public client
// always sends the URL's host as SNI, which fails for an IP literal (docs/rtms-url-rules.md).
@_spi(WSInternal) import WSCore

/// The WebSocket client connection the relay uses for RTMS: swift-websocket's frame handling on a pipeline
/// built from an `RTMSServerURL`, so what is connected to is exactly what the allow-list checked.
///
/// TLS follows the URL's (lower-cased) scheme. A host name goes in SNI and is verified against the certificate's
/// DNS names; an IP literal sends no SNI (RFC 6066 allows host names only) and NIOSSL then verifies the
/// certificate's IP SANs against the connected address.
///
/// With a proxy, the socket goes to the proxy, and NIOExtras' CONNECT handler asks it for a tunnel to the URL's
/// host and port first; TLS and the WebSocket then run inside the tunnel exactly as without one.
struct RTMSWebSocketChannel: ClientConnectionChannel {
    /// The context handed to the frame handler.
    struct Context: WebSocketContext {
        let logger: Logger
    }

    enum UpgradeResult: Sendable {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case notUpgraded
    }

    typealias Value = EventLoopFuture<UpgradeResult>
    typealias Result = WebSocketCloseFrame?

    let url: RTMSServerURL
    let proxy: OutboundProxy?
    let sslContext: NIOSSLContext?
    let maxFrameSize: Int
    let closeTimeout: Duration
    /// Makes the handler that parses data frames on the event loop, placed after the WebSocket decoder.
    let makeFrameHandler: @Sendable () -> RTMSFrameHandler
    let handler: WebSocketDataHandler<Context>

    init(url: RTMSServerURL, tlsConfiguration: TLSConfiguration?, proxy: OutboundProxy?, maxFrameSize: Int, closeTimeout: Duration,
         makeFrameHandler: @escaping @Sendable () -> RTMSFrameHandler, handler: @escaping WebSocketDataHandler<Context>) throws {
        self.url = url
        self.proxy = proxy
        self.sslContext = url.usesTLS ? try NIOSSLContext(configuration: tlsConfiguration ?? .makeClientConfiguration()) : nil
        self.maxFrameSize = maxFrameSize
        self.closeTimeout = closeTimeout
        self.makeFrameHandler = makeFrameHandler
        self.handler = handler
    }

    /// Connects and runs `handler` until the socket closes; the server's close frame, if it sent one. Data frames
    /// go to the handler `makeFrameHandler` makes, on the event loop; `handler` sees only what that passes on.
    static func connect(url: RTMSServerURL, tlsConfiguration: TLSConfiguration?, proxy: OutboundProxy?, maxFrameSize: Int, closeTimeout: Duration,
                        eventLoopGroup: any EventLoopGroup, logger: Logger, makeFrameHandler: @escaping @Sendable () -> RTMSFrameHandler,
                        handler: @escaping WebSocketDataHandler<Context>) async throws -> WebSocketCloseFrame? {
        let channel = try RTMSWebSocketChannel(url: url, tlsConfiguration: tlsConfiguration, proxy: proxy, maxFrameSize: maxFrameSize,
                                               closeTimeout: closeTimeout, makeFrameHandler: makeFrameHandler, handler: handler)
        let address = proxy.map { ClientConnection<RTMSWebSocketChannel>.Address.hostname($0.host, port: $0.port) } ?? .hostname(url.host, port: url.effectivePort)
        return try await ClientConnection(channel, address: address, eventLoopGroup: eventLoopGroup, logger: logger).run()
    }

    /// How long the proxy may take to open the tunnel.
    static let proxyConnectTimeout = TimeAmount.seconds(10)

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard let proxy else { return setUpWebSocket(channel: channel) }
        // CONNECT host:port through an HTTP/1 codec that is removed once the proxy answers 2xx (the CONNECT handler
        // removes itself); the bytes after that are the tunnel.
        let tunnel = channel.eventLoop.makePromise(of: Void.self)
        let authority = url.host.contains(":") ? "[\(url.host)]" : url.host
        var headers = HTTPHeaders([("Host", "\(authority):\(url.effectivePort)")])
        if let authorization = proxy.authorization { headers.add(name: "Proxy-Authorization", value: authorization) }
        let encoder = HTTPRequestEncoder()
        let decoder = ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes))
        let connect = NIOHTTP1ProxyConnectHandler(targetHost: authority, targetPort: url.effectivePort, headers: headers,
                                                  deadline: .now() + Self.proxyConnectTimeout, promise: tunnel)
        do {
            try channel.pipeline.syncOperations.addHandlers([encoder, decoder, connect])
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        // The bootstrap connects only once this future completes, so the tunnel (which needs the connection) is
        // awaited inside the value, as the WebSocket upgrade itself is.
        let pipeline = channel.pipeline.syncOperations
        let value: Value = tunnel.futureResult
            .flatMapErrorThrowing { error -> Void in throw RTMSProxyError(proxy: proxy, target: "\(authority):\(url.effectivePort)", underlying: error) }
            .assumeIsolated()
            .flatMap { pipeline.removeHandler(decoder) }
            .flatMap { pipeline.removeHandler(encoder) }
            .flatMap { setUpWebSocket(channel: channel) }
            .nonisolated()
            .flatMap { $0 }
        return channel.eventLoop.makeSucceededFuture(value)
    }

    private func setUpWebSocket(channel: any Channel) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let upgrader = NIOTypedWebSocketClientUpgrader<UpgradeResult>(maxFrameSize: maxFrameSize) { [makeFrameHandler] channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(makeFrameHandler())
                    return UpgradeResult.websocket(try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel))
                }
            }
            let authority = url.host.contains(":") ? "[\(url.host)]" : url.host
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: url.port.map { "\(authority):\($0)" } ?? authority)
            headers.add(name: "Origin", value: "\(url.scheme.rawValue)://\(authority)")
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: url.pathAndQuery, headers: headers)
            let upgrade = NIOTypedHTTPClientUpgradeConfiguration<UpgradeResult>(
                upgradeRequestHead: head, upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in channel.eventLoop.makeCompletedFuture { UpgradeResult.notUpgraded } })
            var configuration = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: upgrade)
            configuration.leftOverBytesStrategy = .forwardBytes
            if let sslContext {
                let tls = try NIOSSLClientHandler(context: sslContext, serverHostname: url.isIPLiteral ? nil : url.host)
                try channel.pipeline.syncOperations.addHandler(tls, position: .first)
            }
            return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: configuration)
        }
    }

    func handle(value: Value, logger: Logger) async throws -> WebSocketCloseFrame? {
        switch try await value.get() {
        case .websocket(let channel):
            return try await WebSocketHandler.handle(
                type: .client,
                configuration: .init(extensions: [], autoPing: .disabled, closeTimeout: closeTimeout, validateUTF8: false, maxFrameSize: maxFrameSize),
                asyncChannel: channel, context: Context(logger: logger), handler: handler)
        case .notUpgraded:
            throw WebSocketClientError.webSocketUpgradeFailed
        }
    }
}

/// The proxy would not open a tunnel to an RTMS server: said with both names, so an operator knows which
/// side to look at.
struct RTMSProxyError: Error, CustomStringConvertible {
    let proxy: OutboundProxy
    let target: String
    let underlying: any Error

    var description: String {
        let reason: String
        switch underlying as? NIOHTTP1ProxyConnectHandler.Error {
        case .some(let error) where error == .proxyAuthenticationRequired(): reason = "it asks for credentials (407); put them in the proxy URL"
        case .some(let error) where error == .httpProxyHandshakeTimeout(): reason = "it did not answer within \(RTMSWebSocketChannel.proxyConnectTimeout)"
        case .some(let error): reason = "\(error)"
        case .none: reason = "\(underlying)"
        }
        return "the proxy \(proxy) did not open a tunnel to \(target): \(reason)"
    }
}
