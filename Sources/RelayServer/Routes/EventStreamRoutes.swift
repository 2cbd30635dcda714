import Foundation
import HTTPTypes
import Hummingbird
import RelayCore
import ServiceLifecycle

/// `GET /api/events?engagement=ID` — the web sink's Server-Sent Events (SPEC §6), behind the browser-API
/// access control (`?access_token=` is accepted there because EventSource cannot send headers).
///
/// The route only moves bytes: the sink's `EventStreamSource` decides what each browser gets and drops one
/// that falls behind. The stream ends when the browser goes away, the source drops it, or the relay shuts
/// down (so graceful shutdown never waits on an open page).
struct EventStreamRoutes {
    /// The web sink's broadcaster, when a `type: web` sink is configured.
    let source: (any EventStreamSource)?

    /// Browsers reconnect this long after the stream ends.
    static let retryMilliseconds = 2000

    func add(to group: RouterGroup<RelayRequestContext>) {
        group.get("/api/events") { request, _ -> Response in
            guard let source else {
                throw HTTPError(.serviceUnavailable, message: "no web sink is configured (add a sink with type: web to the config)")
            }
            let engagement = request.uri.queryParameters["engagement"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
            if let engagement, engagement.count > 256 {
                throw HTTPError(.badRequest, message: "engagement must be an id of at most 256 characters")
            }
            let lastEventText = request.headers[.lastEventID] ?? request.uri.queryParameters["last_event_id"].map(String.init)
            var lastEventID: UInt64?
            if let lastEventText, !lastEventText.isEmpty {
                guard let id = UInt64(lastEventText.trimmingCharacters(in: .whitespaces)) else {
                    throw HTTPError(.badRequest, message: "Last-Event-ID must be a number, not '\(lastEventText.prefix(40))'")
                }
                lastEventID = id
            }
            let subscription = source.subscribe(engagement: engagement, lastEventID: lastEventID)
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache",
                    .init("X-Accel-Buffering")!: "no",
                ],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "retry: \(Self.retryMilliseconds)\n: connected\n\n"))
                    try await withTaskCancellationOrGracefulShutdownHandler {
                        for await message in subscription.messages {
                            try await writer.write(ByteBuffer(string: message.encoded))
                        }
                    } onCancelOrGracefulShutdown: {
                        subscription.cancel()
                    }
                    subscription.cancel()
                    try await writer.finish(nil)
                }
            )
        }
    }
}

extension HTTPField.Name {
    static let lastEventID = Self("Last-Event-ID")!
}
