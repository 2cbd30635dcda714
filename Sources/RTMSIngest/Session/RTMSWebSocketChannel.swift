import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import NIOWebSocket
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
    let sslContext: NIOSSLContext?
    let maxFrameSize: Int
    let closeTimeout: Duration
    let handler: WebSocketDataHandler<Context>

    init(url: RTMSServerURL, tlsConfiguration: TLSConfiguration?, maxFrameSize: Int, closeTimeout: Duration,
         handler: @escaping WebSocketDataHandler<Context>) throws {
        self.url = url
        self.sslContext = url.usesTLS ? try NIOSSLContext(configuration: tlsConfiguration ?? .makeClientConfiguration()) : nil
        self.maxFrameSize = maxFrameSize
        self.closeTimeout = closeTimeout
        self.handler = handler
    }

    /// Connects and runs `handler` until the socket closes; the server's close frame, if it sent one.
    static func connect(url: RTMSServerURL, tlsConfiguration: TLSConfiguration?, maxFrameSize: Int, closeTimeout: Duration,
                        eventLoopGroup: any EventLoopGroup, logger: Logger,
                        handler: @escaping WebSocketDataHandler<Context>) async throws -> WebSocketCloseFrame? {
        let channel = try RTMSWebSocketChannel(url: url, tlsConfiguration: tlsConfiguration, maxFrameSize: maxFrameSize,
                                               closeTimeout: closeTimeout, handler: handler)
        return try await ClientConnection(channel, address: .hostname(url.host, port: url.effectivePort),
                                          eventLoopGroup: eventLoopGroup, logger: logger).run()
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let upgrader = NIOTypedWebSocketClientUpgrader<UpgradeResult>(maxFrameSize: maxFrameSize) { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    UpgradeResult.websocket(try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel))
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
