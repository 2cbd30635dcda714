import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// Counts the HTTP connections and refuses those over the cap, and counts what the deadlines closed.
///
/// Read at scrape time for `/metrics`. A refused connection is closed at once, before any byte is read, so a
/// flood of clients costs one descriptor each only for a moment and never starves RTMS sockets or files.
public final class HTTPConnectionGuard: Sendable {
    /// The most connections served at once (after `DescriptorBudget` has had its say).
    public let maxConnections: Int
    private let open = Atomic<Int>(0)
    private let refused = Atomic<Int>(0)
    private let headerTimeouts = Atomic<Int>(0)
    private let bodyTimeouts = Atomic<Int>(0)

    public init(maxConnections: Int) {
        self.maxConnections = maxConnections
    }

    /// Takes a slot for a new connection; false (counted) when all are in use.
    func admit() -> Bool {
        while true {
            let current = open.load(ordering: .relaxed)
            if current >= maxConnections {
                refused.add(1, ordering: .relaxed)
                return false
            }
            if open.compareExchange(expected: current, desired: current + 1, ordering: .relaxed).exchanged { return true }
        }
    }

    /// Frees the slot of a closed connection.
    func release() {
        open.subtract(1, ordering: .relaxed)
    }

    func timedOut(_ phase: RequestDeadlineHandler.Phase) {
        switch phase {
        case .header: headerTimeouts.add(1, ordering: .relaxed)
        case .body: bodyTimeouts.add(1, ordering: .relaxed)
        }
    }

    /// The numbers as Prometheus samples.
    var samples: [MetricSample] {
        let timeouts = "rtms_relay_http_request_timeouts_total", help = "HTTP connections closed because the request head or body was too slow."
        return [
            MetricSample("rtms_relay_http_connections_open", "gauge", "HTTP connections open now.", open.load(ordering: .relaxed)),
            MetricSample("rtms_relay_http_connections_max", "gauge", "The cap on open HTTP connections.", maxConnections),
            MetricSample("rtms_relay_http_connections_refused_total", "counter", "HTTP connections closed at once because the cap was reached.", refused.load(ordering: .relaxed)),
            MetricSample(timeouts, "counter", help, headerTimeouts.load(ordering: .relaxed), labels: [("phase", "header")]),
            MetricSample(timeouts, "counter", help, bodyTimeouts.load(ordering: .relaxed), labels: [("phase", "body")]),
        ]
    }
}

/// Hummingbird's HTTP/1 child channel behind a connection cap, with `RequestDeadlineHandler` in its pipeline.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    let connections: HTTPConnectionGuard

    /// The server builder for `Application(server:)`.
    static func builder(idleTimeout: TimeAmount, headerTimeout: TimeAmount, bodyTimeout: TimeAmount, connections: HTTPConnectionGuard) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            let configuration = HTTP1Channel.Configuration(
                additionalChannelHandlers: [RequestDeadlineHandler(headerTimeout: headerTimeout, bodyTimeout: bodyTimeout, onTimeout: { connections.timedOut($0) })],
                idleTimeout: idleTimeout
            )
            return GuardedHTTP1Channel(http1: HTTP1Channel(responder: responder, configuration: configuration), connections: connections)
        }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard connections.admit() else {
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(ConnectionRefused())
        }
        let connections = self.connections
        channel.closeFuture.whenComplete { _ in connections.release() }
        return http1.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }

    /// Why a connection over the cap got no child channel.
    struct ConnectionRefused: Error {}
}
