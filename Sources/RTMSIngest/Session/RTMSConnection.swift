import NIOConcurrencyHelpers
import Logging
import NIOCore
import NIOSSL
import Synchronization
import NIOWebSocket
import WSClient

/// One WebSocket to Zoom, signaling or media, run as a child task of its `RTMSSession`.
///
/// It sends the handshake as soon as the socket is open. Its `RTMSFrameHandler` parses every message on the event
/// loop, answers KEEP_ALIVE_REQ on this same socket (echoing the timestamp), and sends the rest where `route`
/// says. The connection ends with a `CloseCause` when the server
/// closes, the socket drops, the liveness watchdog sees no inbound frame for `livenessTimeout` (any frame counts:
/// Zoom may skip keep-alives while data flows), or the session asks it to close.
final class RTMSConnection: Sendable {
    enum Role: String, Sendable { case signaling, media }

    let id: Int
    let role: Role
    private let writer = NIOLockedValueBox<WebSocketOutboundWriter?>(nil)
    private let lastInboundNanos = Atomic<UInt64>(0)
    private let closeSignal: AsyncStream<Void>
    private let closeContinuation: AsyncStream<Void>.Continuation
    /// Finished when `run` returns.
    private let endSignal: AsyncStream<Void>
    private let endContinuation: AsyncStream<Void>.Continuation

    init(id: Int, role: Role) {
        self.id = id
        self.role = role
        (closeSignal, closeContinuation) = AsyncStream.makeStream(of: Void.self)
        (endSignal, endContinuation) = AsyncStream.makeStream(of: Void.self)
    }

    /// Asks the connection to close; `run` returns soon after.
    func requestClose() {
        closeContinuation.finish()
    }

    /// Lets the server close: Zoom closes every socket of a stream it ended, after the media it had already
    /// sent. Reads (and hands on) until then, or until `timeout`; then closes for good. Used when a stream ends,
    /// so its last frames are not cut off.
    func closeWhenServerDoes(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await _ in self.endSignal {} }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
        requestClose()
    }

    /// Sends one JSON message as a text frame; false when the socket is not open (any more).
    @discardableResult
    func send(_ json: String) async -> Bool {
        guard let writer = writer.withLockedValue({ $0 }) else { return false }
        do {
            try await writer.write(.text(json))
            return true
        } catch {
            return false
        }
    }

    /// Connects, runs until the connection ends, and says why it ended. Closing on request reports `.lost("closed by relay")`.
    func run(url: RTMSServerURL, configuration: RTMSClientConfiguration, handshake: String, metrics: IngestMetrics, logger: Logger,
             route: RTMSMessageRoute) async -> RTMSSessionStateMachine.CloseCause {
        touch()
        defer { endContinuation.finish() }
        return await withTaskGroup(of: RTMSSessionStateMachine.CloseCause.self) { group in
            group.addTask {
                await self.runSocket(url: url, configuration: configuration, handshake: handshake, metrics: metrics, logger: logger, route: route)
            }
            group.addTask {
                let timeout = configuration.livenessTimeout
                let tick = max(timeout / 4, .milliseconds(10))
                while (try? await Task.sleep(for: tick)) != nil {
                    let idle = NIODeadline.now().uptimeNanoseconds &- self.lastInboundNanos.load(ordering: .relaxed)
                    if idle > UInt64(timeout.components.seconds) * 1_000_000_000 + UInt64(timeout.components.attoseconds / 1_000_000_000) {
                        return .lost("no frame received for \(timeout)")
                    }
                }
                return .lost("cancelled")
            }
            group.addTask {
                for await _ in self.closeSignal {}
                return .lost("closed by relay")
            }
            let cause = await group.next() ?? .lost("cancelled")
            group.cancelAll()
            self.writer.withLockedValue { $0 = nil }
            return cause
        }
    }

    private func touch() {
        lastInboundNanos.store(NIODeadline.now().uptimeNanoseconds, ordering: .relaxed)
    }

    private func runSocket(url: RTMSServerURL, configuration: RTMSClientConfiguration, handshake: String, metrics: IngestMetrics, logger: Logger,
                           route: RTMSMessageRoute) async -> RTMSSessionStateMachine.CloseCause {
        do {
            // Connects to the parsed URL the allow-list checked: no second parser, and `wss` always means TLS.
            let closeFrame = try await RTMSWebSocketChannel.connect(
                url: url,
                tlsConfiguration: configuration.tlsConfiguration,
                proxy: configuration.proxy,
                maxFrameSize: configuration.maxFrameSize,
                closeTimeout: .seconds(1),
                eventLoopGroup: configuration.eventLoopGroup,
                logger: logger,
                makeFrameHandler: {
                    RTMSFrameHandler(maxMessageSize: configuration.maxFrameSize, metrics: metrics, logger: logger, route: route, touch: { self.touch() })
                }
            ) { inbound, outbound, _ in
                self.writer.withLockedValue { $0 = outbound }
                try await outbound.write(.text(handshake))
                // Data frames never get here (the frame handler took them); iterating lets the WebSocket library
                // answer pings and the close handshake.
                for try await _ in inbound {}
            }
            if let closeFrame { return .serverClosed(code: Int(UInt16(webSocketErrorCode: closeFrame.closeCode))) }
            return .lost("connection dropped without a close frame")
        } catch {
            return .lost("\(error)")
        }
    }
}
