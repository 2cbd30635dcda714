import Logging
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose client is too slow to send its request: the first request head must arrive
/// within `headerTimeout` of connecting, and each request's body must be complete within `bodyTimeout` of
/// its head (slowloris).
///
/// It only looks at reading. Once a request has been read in full nothing is armed, so a long response (the
/// SSE feed) runs as long as it likes. Between requests on a kept-alive connection Hummingbird's
/// `idleTimeout` applies instead.
final class RequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    /// What the client was still sending when its deadline passed.
    enum Phase: Sendable {
        case header, body
    }

    let headerTimeout: TimeAmount
    let bodyTimeout: TimeAmount
    let onTimeout: @Sendable (Phase) -> Void
    private var deadline: Scheduled<Void>?
    private var sawFirstHead = false

    init(headerTimeout: TimeAmount, bodyTimeout: TimeAmount, onTimeout: @escaping @Sendable (Phase) -> Void) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.onTimeout = onTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive, !sawFirstHead { arm(.header, in: headerTimeout, context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelActive(context: ChannelHandlerContext) {
        if deadline == nil, !sawFirstHead { arm(.header, in: headerTimeout, context: context) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            sawFirstHead = true
            arm(.body, in: bodyTimeout, context: context)
        case .body:
            break
        case .end:
            disarm()
        }
        context.fireChannelRead(data)
    }

    private func arm(_ phase: Phase, in timeout: TimeAmount, context: ChannelHandlerContext) {
        disarm()
        let onTimeout = self.onTimeout
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [context] in
            self.deadline = nil
            onTimeout(phase)
            context.close(promise: nil)
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}
