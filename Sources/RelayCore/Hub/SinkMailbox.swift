import NIOConcurrencyHelpers
import DequeModule
import Logging

/// One sink's bounded queue. Producers put whole batches under one lock acquisition without ever suspending
/// (unless the policy is `block`); the sink's loop takes everything queued at once as a batch.
///
/// Written on a mutex-protected deque rather than `AsyncStream` so the consumer can take whole batches,
/// the depth is readable at any time, and `block` needs no second mechanism.
///
/// With `spill` the queue is the deque followed by an on-disk `SpillLog`, everything in the deque older than
/// everything in the log. An event goes to the log when the deque is full, when the log already holds events
/// (order), or while the sink reports itself degraded: then the deque and the batch the sink is working on move
/// to the head of the log, so a crash while, say, Redis is down loses none of them. Batches read from the log
/// leave it only when `settle` says the sink is done with them. When the log refuses (`spill_max_bytes`, a
/// full disk) the new events are dropped as with `drop_newest` (said once), except that while the log is
/// empty they queue in memory, so a sink degraded by its own disk keeps getting events to recover with.
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
        /// The consumer, woken, gathering a batch of `target` events for up to `policy.batchWindow` (`gather`).
        var gathering: (id: UInt64, target: Int, continuation: CheckedContinuation<Void, Never>)?
        var blockedProducers: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        var nextWaiterID: UInt64 = 0
        /// The batch the consumer holds, kept (spill only) until `settle` in case it must move to the log.
        var inFlight: [StreamEvent] = []
        /// Events at the head of the log the consumer holds; removed by `settle`.
        var inFlightSpilled = 0
        /// Said once per episode: the log refused events.
        var spillRefusalLogged = false
    }

    let policy: QueuePolicy
    private let state = NIOLockedValueBox(State())
    /// The on-disk overflow, with `spill`; only touched under `state`'s lock.
    private let spill: (any SpillLog)?
    /// Whether the sink reports itself fine; while it does not, `spill` sends events to disk.
    private let sinkIsHealthy: @Sendable () -> Bool
    private let logger: Logger

    init(policy: QueuePolicy, spill: (any SpillLog)? = nil, sinkIsHealthy: @escaping @Sendable () -> Bool = { true },
         logger: Logger = Logger(label: "rtms-relay.sink")) {
        precondition(policy.capacity > 0, "queue capacity must be positive")
        precondition((policy.overflow == .spill) == (spill != nil), "a spill log goes with overflow: spill, and only with it")
        self.policy = policy
        self.spill = spill
        self.sinkIsHealthy = sinkIsHealthy
        self.logger = logger
    }

    /// Events currently queued in memory.
    var depth: Int { state.withLockedValue { $0.buffer.count } }
    /// Events in the spill log, and their bytes.
    var spilled: (events: Int, bytes: Int64) { state.withLockedValue { _ in (spill?.count ?? 0, spill?.bytes ?? 0) } }
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
    func tryPut(_ rest: inout ArraySlice<StreamEvent>) {
        let (consumer, gatherer) = state.withLockedValue { state -> (CheckedContinuation<Delivery?, Never>?, CheckedContinuation<Void, Never>?) in
            if state.closed {
                state.dropped += UInt64(rest.count)
                rest = []
                return (nil, nil)
            }
            let queued: Bool
            if let spill {
                spillPut(&state, &rest, into: spill)
                queued = true
            } else {
                queued = queue(&state, &rest)
            }
            return (queued ? state.consumer.take() : nil, batchGathered(&state))
        }
        consumer?.resume(returning: nil)
        gatherer?.resume()
    }

    /// `tryPut` without a log: memory, with the overflow policy; whether anything was queued.
    private func queue(_ state: inout State, _ rest: inout ArraySlice<StreamEvent>) -> Bool {
        var queued = false
        while let event = rest.first {
            if state.buffer.count >= policy.capacity {
                switch policy.overflow {
                case .block:
                    return queued
                case .dropNewest, .spill:  // spill without a log (never built so): as drop_newest
                    state.dropped += UInt64(rest.count)
                    rest = []
                    return queued
                case .dropOldest:
                    state.buffer.removeFirst()
                    state.dropped += 1
                }
            }
            state.buffer.append(event)
            queued = true
            rest = rest.dropFirst()
        }
        return queued
    }

    /// The gathering consumer, taken when its batch is full (or the log holds events: a backlog, take it now).
    private func batchGathered(_ state: inout State) -> CheckedContinuation<Void, Never>? {
        guard let gathering = state.gathering, state.buffer.count >= gathering.target || hasSpilledToDeliver(state) else { return nil }
        state.gathering = nil
        return gathering.continuation
    }

    /// `tryPut` under `spill`: memory while it has room, the log is empty and the sink is fine; the log otherwise.
    private func spillPut(_ state: inout State, _ rest: inout ArraySlice<StreamEvent>, into spill: any SpillLog) {
        let healthy = sinkIsHealthy()
        if !healthy { moveQueuedToSpill(&state, spill) }
        if spill.count == 0 && healthy {
            let room = policy.capacity - state.buffer.count
            state.buffer.append(contentsOf: rest.prefix(room))
            rest = rest.dropFirst(room)
        }
        guard !rest.isEmpty else { return }
        do {
            let appended = try spill.append(rest, maxBytes: policy.spillMaxBytes)
            rest = rest.dropFirst(appended)
            if !rest.isEmpty { refuse(&state, "the spill log holds its spill_max_bytes (\(policy.spillMaxBytes))") }
        } catch {
            refuse(&state, "\(error)")
        }
        if spill.count == 0 {
            // Nothing on disk to keep in order with: queue in memory as drop_newest would.
            let room = max(0, policy.capacity - state.buffer.count)
            state.buffer.append(contentsOf: rest.prefix(room))
            rest = rest.dropFirst(room)
        }
        state.dropped += UInt64(rest.count)
        rest = []
    }

    private func refuse(_ state: inout State, _ why: String) {
        guard !state.spillRefusalLogged else { return }
        state.spillRefusalLogged = true
        logger.error("spill log refused events; new events are dropped until it has room", metadata: ["reason": "\(why)"])
    }

    /// Moves the batch the consumer holds and the memory queue to the head of the log (oldest first), so they
    /// outlive a crash. Leaves them in memory if the log refuses.
    private func moveQueuedToSpill(_ state: inout State, _ spill: any SpillLog) {
        guard !state.inFlight.isEmpty || !state.buffer.isEmpty else { return }
        do {
            try spill.prepend(state.inFlight + Array(state.buffer))
            state.inFlightSpilled += state.inFlight.count
            state.inFlight = []
            state.buffer.removeAll()
        } catch {
            refuse(&state, "\(error)")
        }
    }

    /// The consumer is done with its last batch (`consumed`: without error). Batches read from the log leave it,
    /// except one that failed after `close`, which stays for the next run; likewise a failed memory batch after
    /// `close` moves to the log. Without a log, nothing to do.
    func settle(consumed: Bool) {
        guard let spill else { return }
        state.withLockedValue { state in
            if !consumed && state.closed {
                moveQueuedToSpill(&state, spill)
                state.inFlightSpilled = 0
                return
            }
            if state.inFlightSpilled > 0 {
                do {
                    try spill.removeFirst(state.inFlightSpilled)
                    // The log drained: the next refusal is a new episode, said again.
                    if spill.count == 0 { state.spillRefusalLogged = false }
                } catch {
                    logger.error("cannot remove delivered events from the spill log; they will be delivered again", metadata: ["error": "\(error)"])
                }
            }
            state.inFlightSpilled = 0
            state.inFlight = []
        }
    }

    /// After `close`, when the sink gave up: the memory queue moves to the log for the next run (spill only).
    func keepQueuedForNextRun() {
        guard let spill else { return }
        state.withLockedValue { state in
            moveQueuedToSpill(&state, spill)
            state.inFlightSpilled = 0
        }
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
        let (consumer, gatherer, producers) = state.withLockedValue { state in
            state.closed = true
            let producers = state.blockedProducers.map(\.continuation)
            state.blockedProducers.removeAll()
            return (state.consumer.take(), state.gathering.take()?.continuation, producers)
        }
        consumer?.resume(returning: nil)
        gatherer?.resume()
        for producer in producers { producer.resume() }
    }

    var isClosed: Bool { state.withLockedValue { $0.closed } }

    /// The next batch of at most `max` events (and a pending tick), waiting until there is one; nil once
    /// closed and drained, or when the waiting task is cancelled.
    func next(max: Int) async -> Delivery? {
        while true {
            let (delivery, finished, producers) = state.withLockedValue { state -> (Delivery?, Bool, [CheckedContinuation<Void, Never>]) in
                take(&state, max: max)
            }
            for producer in producers { producer.resume() }
            if let delivery { return delivery }
            if finished { return nil }
            if Task.isCancelled { return nil }
            // Wait for a producer, a tick or close; the resume value is only a wake-up.
            _ = await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Delivery?, Never>) in
                    let wakeNow = state.withLockedValue { state -> Bool in
                        if !state.buffer.isEmpty || hasSpilledToDeliver(state) || state.tickPending || state.closed || Task.isCancelled { return true }
                        state.consumer = continuation
                        return false
                    }
                    if wakeNow { continuation.resume(returning: nil) }
                }
            } onCancel: {
                let consumer = state.withLockedValue { $0.consumer.take() }
                consumer?.resume(returning: nil)
            }
            await gather(max: max)
        }
    }

    /// Whether the consumer waits for events (for tests).
    var consumerIsWaiting: Bool { state.withLockedValue { $0.consumer != nil } }
    /// Whether the consumer, woken, is gathering its batch (for tests).
    var consumerIsGathering: Bool { state.withLockedValue { $0.gathering != nil } }

    /// Woken by the first event of a burst: waits up to `policy.batchWindow` for the rest, so the batch holds the
    /// burst (two parties × a thousand calls arrive within milliseconds) rather than one read's events per
    /// wake-up. `max` events queued, events in the log, or close end the wait at once. With no window it only
    /// lets the producers that are ready run first.
    private func gather(max: Int) async {
        let window = policy.batchWindow
        guard window > .zero else { return await Task.yield() }
        let id = state.withLockedValue { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLockedValue { state -> Bool in
                let target = Swift.min(max, policy.capacity)
                if state.closed || state.buffer.count >= target || hasSpilledToDeliver(state) { return true }
                state.gathering = (id, target, continuation)
                return false
            }
            if now { return continuation.resume() }
            Task {
                try? await Task.sleep(for: window)
                let gatherer = self.state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
                    guard state.gathering?.id == id else { return nil }  // already ended: by a full batch or close
                    return state.gathering.take()?.continuation
                }
                gatherer?.resume()
            }
        }
    }

    /// The log has events and the run is not closing (on close the log is left for the next run).
    private func hasSpilledToDeliver(_ state: State) -> Bool {
        guard let spill, !state.closed else { return false }
        return spill.count > 0
    }

    private func take(_ state: inout State, max: Int) -> (Delivery?, Bool, [CheckedContinuation<Void, Never>]) {
        if state.buffer.isEmpty && !hasSpilledToDeliver(state) && !state.tickPending {
            return (nil, state.closed, [])
        }
        let count = Swift.min(max, state.buffer.count)
        var events: [StreamEvent] = []
        events.reserveCapacity(count)
        for _ in 0..<count { events.append(state.buffer.removeFirst()) }
        if let spill {
            if events.isEmpty && hasSpilledToDeliver(state) {
                do {
                    events = try spill.peek(max: max)
                    state.inFlightSpilled = events.count
                } catch {
                    // An event that cannot be read back (a damaged row) is given up, so the rest still flows.
                    logger.error("cannot read the spill log; dropping its oldest event", metadata: ["error": "\(error)"])
                    if (try? spill.removeFirst(1)) != nil { state.dropped += 1 }
                }
            } else {
                state.inFlight = events
            }
        }
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
