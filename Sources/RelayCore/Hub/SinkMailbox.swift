import NIOConcurrencyHelpers
import DequeModule

/// One sink's bounded queue. Producers put whole batches under one lock acquisition without ever suspending
/// (unless the policy is `block`); the sink's loop takes everything queued at once as a batch.
///
/// Written on a mutex-protected deque rather than `AsyncStream` so the consumer can take whole batches,
/// the depth is readable at any time, and `block` needs no second mechanism.
final class SinkMailbox: Sendable {
    /// What the consumer gets: the queued events (oldest first) and whether a tick is due.
    struct Delivery {
        var events: [StreamEvent]
        var tick: Bool
    }

    private struct State {
        var buffer: Deque<StreamEvent> = []
        var tickPending = false
        var closed = false
        var dropped: UInt64 = 0
        var consumer: CheckedContinuation<Delivery?, Never>?
        var blockedProducers: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        var nextWaiterID: UInt64 = 0
    }

    let policy: QueuePolicy
    private let state = NIOLockedValueBox(State())

    init(policy: QueuePolicy) {
        precondition(policy.capacity > 0, "queue capacity must be positive")
        self.policy = policy
    }

    /// Events currently queued.
    var depth: Int { state.withLockedValue { $0.buffer.count } }
    /// Events discarded by the overflow policy (or published after close).
    var dropped: UInt64 { state.withLockedValue { $0.dropped } }

    /// Queues `events` in order under one lock acquisition (the overflow policy applies to each in turn), and
    /// wakes the consumer once. With `block`, queues what fits, waits for the consumer to take a batch, then goes
    /// on with the rest; cancelled while waiting, the rest is counted as dropped.
    func put(contentsOf events: ArraySlice<StreamEvent>) async {
        var rest = events
        while true {
            tryPut(&rest)
            if rest.isEmpty { return }
            // Full with the block policy: wait for the consumer to take a batch, then try again.
            let id = state.withLockedValue { state -> UInt64 in
                state.nextWaiterID += 1
                return state.nextWaiterID
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLockedValue { state -> Bool in
                        if state.closed || state.buffer.count < policy.capacity || Task.isCancelled { return true }
                        state.blockedProducers.append((id, continuation))
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
                    guard let index = state.blockedProducers.firstIndex(where: { $0.id == id }) else { return nil }
                    return state.blockedProducers.remove(at: index).continuation
                }
                waiter?.resume()
            }
            if Task.isCancelled {
                let lost = UInt64(rest.count)
                state.withLockedValue { $0.dropped += lost }
                return
            }
        }
    }

    /// Queues as many of `events` as the policy allows without suspending: all of them, except under `block`
    /// with the queue full, where it stops and leaves the rest in `rest`. Never suspends.
    private func tryPut(_ rest: inout ArraySlice<StreamEvent>) {
        let consumer = state.withLockedValue { state -> CheckedContinuation<Delivery?, Never>? in
            if state.closed {
                state.dropped += UInt64(rest.count)
                rest = []
                return nil
            }
            var queued = false
            while let event = rest.first {
                if state.buffer.count >= policy.capacity {
                    switch policy.overflow {
                    case .block:
                        return queued ? state.consumer.take() : nil
                    case .dropNewest:
                        state.dropped += UInt64(rest.count)
                        rest = []
                        return queued ? state.consumer.take() : nil
                    case .dropOldest:
                        state.buffer.removeFirst()
                        state.dropped += 1
                    }
                }
                state.buffer.append(event)
                queued = true
                rest = rest.dropFirst()
            }
            return queued ? state.consumer.take() : nil
        }
        consumer?.resume(returning: nil)
    }

    /// Asks for a tick on the consumer's next wake-up.
    func requestTick() {
        let consumer = state.withLockedValue { state -> CheckedContinuation<Delivery?, Never>? in
            state.tickPending = true
            return state.consumer.take()
        }
        consumer?.resume(returning: nil)
    }

    /// No more events: the consumer drains what is queued and then gets nil. Blocked producers return.
    func close() {
        let (consumer, producers) = state.withLockedValue { state in
            state.closed = true
            let producers = state.blockedProducers.map(\.continuation)
            state.blockedProducers.removeAll()
            return (state.consumer.take(), producers)
        }
        consumer?.resume(returning: nil)
        for producer in producers { producer.resume() }
    }

    var isClosed: Bool { state.withLockedValue { $0.closed } }

    /// The next batch of at most `max` events (and a pending tick), waiting until there is one; nil once
    /// closed and drained, or when the waiting task is cancelled.
    func next(max: Int) async -> Delivery? {
        while true {
            let (delivery, finished, producers) = state.withLockedValue { state -> (Delivery?, Bool, [CheckedContinuation<Void, Never>]) in
                Self.take(&state, max: max)
            }
            for producer in producers { producer.resume() }
            if let delivery { return delivery }
            if finished { return nil }
            if Task.isCancelled { return nil }
            // Wait for a producer, a tick or close; the resume value is only a wake-up.
            _ = await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Delivery?, Never>) in
                    let wakeNow = state.withLockedValue { state -> Bool in
                        if !state.buffer.isEmpty || state.tickPending || state.closed || Task.isCancelled { return true }
                        state.consumer = continuation
                        return false
                    }
                    if wakeNow { continuation.resume(returning: nil) }
                }
            } onCancel: {
                let consumer = state.withLockedValue { $0.consumer.take() }
                consumer?.resume(returning: nil)
            }
            // Woken by the first event of a burst: let the producers that are ready run first, so the batch
            // holds the burst (two parties × a thousand calls arrive together) rather than one event per wake-up.
            await Task.yield()
        }
    }

    private static func take(_ state: inout State, max: Int) -> (Delivery?, Bool, [CheckedContinuation<Void, Never>]) {
        if state.buffer.isEmpty && !state.tickPending {
            return (nil, state.closed, [])
        }
        let count = Swift.min(max, state.buffer.count)
        var events: [StreamEvent] = []
        events.reserveCapacity(count)
        for _ in 0..<count { events.append(state.buffer.removeFirst()) }
        let tick = state.tickPending
        state.tickPending = false
        var producers: [CheckedContinuation<Void, Never>] = []
        if !state.blockedProducers.isEmpty {
            producers = state.blockedProducers.map(\.continuation)
            state.blockedProducers.removeAll()
        }
        return (Delivery(events: events, tick: tick), false, producers)
    }
}
