import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import RelayCore
import ServiceLifecycle

/// `GET /api/events?engagement=ID` — the web sink's Server-Sent Events (README.md, "HTTP"), behind the browser-API
/// access control (`?access_token=` is accepted there because EventSource cannot send headers).
///
/// The route only moves bytes: the sink's `EventStreamSource` decides what each browser gets and drops one
/// that falls behind. The stream ends when the browser goes away, the source drops it, or the relay shuts
/// down (so graceful shutdown never waits on an open page).
struct EventStreamRoutes {
    /// The web sink's broadcaster, when a `type: web` sink is configured.
    let source: (any EventStreamSource)?
    let access: EngagementAccess
    /// Caps the open streams, per caller and in all.
    let limits: EventStreamLimits

    /// The route's path: the only one that accepts `?access_token=`.
    static let path = "/api/events"

    /// Browsers reconnect this long after the stream ends.
    static let retryMilliseconds = 2000
    /// A write that has not completed after this long means the browser stopped reading and the socket buffers
    /// are full: the connection is closed, so that no task or descriptor stays behind for it.
    static let stalledWriteTimeout = Duration.seconds(10)

    func add(to group: RouterGroup<RelayRequestContext>) {
        group.get(RouterPath(Self.path)) { request, context -> Response in
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
            let caller = try context.requireCaller()
            let scope: EventScope
            if let engagement {
                try await access.check(caller, engagement: engagement, need: .see)
                scope = .engagement(engagement)
            } else {
                guard let firehose = access.firehose(for: caller) else {
                    throw HTTPError(.forbidden, message: "engagement= is required: agents see the engagements they are on, one at a time")
                }
                scope = firehose
            }
            guard let slot = limits.open(for: caller.limitKey) else {
                throw HTTPError(.tooManyRequests, message: "too many open event streams (at most \(limits.perCaller) per caller and \(limits.total) in all); close other tabs and retry")
            }
            let subscription = source.subscribe(scope: scope, lastEventID: lastEventID)
            let channel = context.channel
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache",
                    .init("X-Accel-Buffering")!: "no",
                ],
                body: ResponseBody { writer in
                    // When the write started that has not completed yet; nil between writes.
                    let pendingSince = NIOLockedValueBox<ContinuousClock.Instant?>(.now)
                    defer {
                        subscription.cancel()
                        slot.release()
                    }
                    try await withThrowingTaskGroup(of: Void.self) { watchdog in
                        // A browser that stops reading leaves a write suspended for good once the socket buffers
                        // are full (the source has already dropped it by then): close the connection, which
                        // fails that write and ends this response.
                        watchdog.addTask {
                            while true {
                                try await Task.sleep(for: .seconds(1))
                                if let since = pendingSince.withLockedValue({ $0 }), ContinuousClock.now - since > Self.stalledWriteTimeout {
                                    channel.close(promise: nil)
                                    return
                                }
                            }
                        }
                        try await writer.write(ByteBuffer(string: "retry: \(Self.retryMilliseconds)\n: connected\n\n"))
                        pendingSince.withLockedValue { $0 = nil }
                        try await withTaskCancellationOrGracefulShutdownHandler {
                            for await message in subscription.messages {
                                pendingSince.withLockedValue { $0 = .now }
                                try await writer.write(ByteBuffer(string: message.encoded))
                                pendingSince.withLockedValue { $0 = nil }
                            }
                        } onCancelOrGracefulShutdown: {
                            subscription.cancel()
                            // Shutting down: a write stuck on a stalled browser must not hold the relay up.
                            if pendingSince.withLockedValue({ $0 }) != nil { channel.close(promise: nil) }
                        }
                        watchdog.cancelAll()
                    }
                    try await writer.finish(nil)
                }
            )
        }
    }
}

extension HTTPField.Name {
    static let lastEventID = Self("Last-Event-ID")!
}
