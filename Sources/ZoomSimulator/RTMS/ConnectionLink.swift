import NIOCore
import NIOWebSocket

/// What a stream asks one of its WebSocket connections to do. The connection's own task performs it, so every
/// write to a socket happens inside that connection's handler.
enum ConnectionCommand: Sendable {
    /// Send one JSON message.
    case send(ByteBuffer)
    /// Send one frame as given, whatever it holds (fault injection: garbage frames).
    case raw(WebSocketOpcode, ByteBuffer)
    /// Close with a WebSocket close frame.
    case close(WebSocketErrorCode, String)
    /// Drop the TCP connection without a close frame (the client sees 1006).
    case abort
}

/// The stream's handle on one connection: an id and the mailbox the connection's task reads.
struct ConnectionLink: Sendable {
    let id: Int
    let mailbox: AsyncStream<ConnectionCommand>.Continuation

    func send(_ buffer: ByteBuffer) { mailbox.yield(.send(buffer)) }
}

/// What a keep-alive timer tick should do for one connection.
enum KeepAliveAction: Sendable {
    case send(KeepAliveRequest)
    /// The socket is stalled (fault injection): send nothing this tick, count nothing.
    case skip
    case expired
    case gone
}

