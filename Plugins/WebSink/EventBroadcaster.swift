import NIOConcurrencyHelpers
import DequeModule
import RelayCore

/// Fans the web sink's messages out to every open `GET /api/events` stream.
///
/// Publishing never waits: each browser has its own bounded queue, and a browser that falls `clientBuffer`
/// messages behind (a slow network, a stalled tab) is disconnected instead of slowing ingest or the other
/// browsers. It reconnects with `Last-Event-ID` and gets what it missed from the replay buffer, which holds
/// the last `replayCapacity` status and stream messages (levels are not replayed: the next one is 250 ms away).
public final class EventBroadcaster: EventStreamSource {
    /// A replayable message and the engagement it belongs to.
    private struct Entry {
        var message: ServerSentEvent
        var engagement: String
    }

    private struct Subscriber {
        var scope: EventScope
        var continuation: AsyncStream<ServerSentEvent>.Continuation
    }

    private struct State {
        var lastID: UInt64 = 0
        var ring: Deque<Entry> = []
        /// Id of the newest message pushed out of the ring, to tell a resuming browser it missed some.
        var evictedThrough: UInt64 = 0
        var subscribers: [Int: Subscriber] = [:]
        var nextSubscriber = 0
        var closed = false
        var disconnected: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())
    let replayCapacity: Int
    let clientBuffer: Int
    /// Messages a new page (no `Last-Event-ID`) receives from the history of its engagement.
    let historyLimit: Int

    public init(replayCapacity: Int = 1000, clientBuffer: Int = 500) {
        self.replayCapacity = max(1, replayCapacity)
        self.clientBuffer = max(2, clientBuffer)
        self.historyLimit = min(self.replayCapacity, self.clientBuffer / 2)
    }

    /// Whether any browser connected now would receive a message of `engagement`: a message that is not kept for
    /// replay need not be built when none would.
    public func isWatched(_ engagement: String) -> Bool {
        state.withLockedValue { state in state.subscribers.values.contains { $0.scope.includes(engagement) } }
    }

    /// Browsers connected now.
    public var subscriberCount: Int { state.withLockedValue { $0.subscribers.count } }
    /// Browsers disconnected for falling behind, since start.
    public var disconnectedSlowClients: UInt64 { state.withLockedValue { $0.disconnected } }

    /// Sends `data` as `event: <event>` to the browsers watching `engagement` (and those watching all),
    /// with the next id. Replayable messages are kept for resume.
    @discardableResult
    public func publish(event: String, data: String, engagement: String, replayable: Bool = true) -> UInt64 {
        var overflowing: [AsyncStream<ServerSentEvent>.Continuation] = []
        let id = state.withLockedValue { state -> UInt64 in
            guard !state.closed else { return 0 }
            state.lastID += 1
            let message = ServerSentEvent(id: state.lastID, event: event, data: data)
            if replayable {
                state.ring.append(Entry(message: message, engagement: engagement))
                if state.ring.count > replayCapacity, let evicted = state.ring.popFirst() {
                    state.evictedThrough = evicted.message.id ?? state.evictedThrough
                }
            }
            for (key, subscriber) in state.subscribers where subscriber.scope.includes(engagement) {
                if case .dropped = subscriber.continuation.yield(message) {
                    state.subscribers[key] = nil
                    state.disconnected += 1
                    overflowing.append(subscriber.continuation)
                }
            }
            return state.lastID
        }
        // Outside the lock: finishing runs the stream's termination handler, which takes the lock again.
        for continuation in overflowing { continuation.finish() }
        return id
    }

    /// A comment on every open stream, so idle connections survive proxies and browsers notice dead ones.
    public func heartbeat() {
        var overflowing: [AsyncStream<ServerSentEvent>.Continuation] = []
        state.withLockedValue { state in
            for (key, subscriber) in state.subscribers {
                if case .dropped = subscriber.continuation.yield(.comment("heartbeat")) {
                    state.subscribers[key] = nil
                    state.disconnected += 1
                    overflowing.append(subscriber.continuation)
                }
            }
        }
        for continuation in overflowing { continuation.finish() }
    }

    public func subscribe(scope: EventScope, lastEventID: UInt64?) -> EventSubscription {
        let (stream, continuation) = AsyncStream.makeStream(of: ServerSentEvent.self, bufferingPolicy: .bufferingOldest(clientBuffer))
        let key: Int? = state.withLockedValue { state in
            guard !state.closed else { return nil }
            let mine = state.ring.filter { scope.includes($0.engagement) }
            var replay: [ServerSentEvent]
            if let lastEventID, lastEventID <= state.lastID {
                replay = mine.filter { ($0.message.id ?? 0) > lastEventID }.map(\.message)
                if lastEventID < state.evictedThrough {
                    replay.insert(Self.missedNotice(engagement: scope.engagement), at: 0)
                }
            } else {
                // A new page, or an id from before a restart: the recent history of the engagement.
                replay = mine.suffix(historyLimit).map(\.message)
            }
            for message in replay.suffix(clientBuffer - 1) { continuation.yield(message) }
            state.nextSubscriber += 1
            state.subscribers[state.nextSubscriber] = Subscriber(scope: scope, continuation: continuation)
            return state.nextSubscriber
        }
        guard let key else {
            continuation.finish()
            return EventSubscription(messages: stream, cancel: {})
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLockedValue { _ = $0.subscribers.removeValue(forKey: key) }
        }
        return EventSubscription(messages: stream, cancel: { continuation.finish() })
    }

    /// Ends every stream (the relay is stopping); later subscribers get an empty stream.
    public func close() {
        let all = state.withLockedValue { state -> [AsyncStream<ServerSentEvent>.Continuation] in
            state.closed = true
            defer { state.subscribers = [:] }
            return state.subscribers.values.map(\.continuation)
        }
        for continuation in all { continuation.finish() }
    }

    private static func missedNotice(engagement: String?) -> ServerSentEvent {
        let line = StatusMessage(engagementID: engagement ?? "", streamID: nil, level: .warning,
                                 text: "Some earlier messages are no longer available (the page was disconnected too long)", channel: nil, time: EventClock.nowMillis())
        return ServerSentEvent(event: "status", data: line.json)
    }
}
