import NIOConcurrencyHelpers
import Logging
import ServiceLifecycle
import Synchronization

/// Fans every published event out to every sink that wants its kind (`Sink.interests`), each through its own
/// bounded queue and task (docs/writing-a-sink.md, "4. Queues and overflow").
///
/// Publishing never waits on a slow sink unless that sink's queue is configured `block`. The hub supervises
/// the sinks: a sink that throws is logged and restarted with backoff while the others go on. On graceful
/// shutdown (or cancellation) it stops taking events, lets every sink drain its queue, and calls each
/// sink's `finish()`. Run it first in the service group so it is shut down last.
public final class EventHub: Service, Sendable {
    /// A sink the hub runs: the sink, its id and type name, and its queue policy.
    public struct Member: Sendable {
        public var id: String
        public var typeName: String
        public var policy: QueuePolicy
        public var sink: any Sink
        public var context: SinkContext

        public init(id: String, typeName: String, policy: QueuePolicy, sink: any Sink, context: SinkContext) {
            self.id = id
            self.typeName = typeName
            self.policy = policy
            self.sink = sink
            self.context = context
        }
    }

    /// How long to wait before restarting a failed sink: `initial`, doubling up to `maximum`.
    public struct Backoff: Sendable {
        public var initial: Duration
        public var maximum: Duration
        public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(30)) {
            self.initial = initial
            self.maximum = maximum
        }
    }

    private let members: [Runner]
    private let sequence = Atomic<UInt64>(0)
    /// Set by `close()`; `run()` waits for it even when there are no sinks, as a service must not return early.
    private let closed = NIOLockedValueBox<(isClosed: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    private let logger: Logger
    private let backoff: Backoff
    /// Largest batch handed to a sink at once.
    public static let maxBatch = 512

    public init(members: [Member], logger: Logger, backoff: Backoff = Backoff()) {
        self.members = members.map(Runner.init)
        self.logger = logger
        self.backoff = backoff
    }

    /// Stamps the next sequence number on `event` and queues it for every sink that wants its kind.
    public func publish(_ event: StreamEvent) async {
        await publish(contentsOf: [event])
    }

    /// Stamps consecutive sequence numbers on `events` (one atomic step for the batch) and queues them, in order,
    /// for every sink that wants their kinds (`Sink.interests`): one lock acquisition and one wake-up per sink
    /// for the whole batch.
    public func publish(contentsOf events: [StreamEvent]) async {
        guard !events.isEmpty else { return }
        var events = events
        stamp(&events)
        for member in members {
            await member.put(events)
        }
    }

    /// Queues events another relay instance ingested (cluster mode) for the live-view sinks only
    /// (`LiveViewSink`), stamped with this hub's sequence numbers.
    public func publishRemote(_ events: [StreamEvent]) async {
        guard !events.isEmpty else { return }
        var events = events
        stamp(&events)
        for member in members where member.member.sink is any LiveViewSink {
            await member.put(events)
        }
    }

    private func stamp(_ events: inout [StreamEvent]) {
        let last = sequence.add(UInt64(events.count), ordering: .relaxed).newValue
        var seq = last - UInt64(events.count)
        for index in events.indices {
            seq += 1
            events[index].seq = seq
        }
    }

    /// Builds and publishes an event stamped now.
    public func publish(_ kind: StreamEvent.Kind, engagementID: String, streamID: String? = nil) async {
        await publish(StreamEvent(engagementID: engagementID, streamID: streamID, kind: kind))
    }

    /// Counters and state of every sink, in config order.
    public func snapshot() -> [SinkSnapshot] {
        members.map { $0.snapshot() }
    }

    /// Events published so far (each went to the queue of every sink that wants its kind).
    public var publishedCount: UInt64 { sequence.load(ordering: .relaxed) }

    /// Starts a fresh maximum in every sink's latency histogram (the benchmark's measurement window).
    public func restartLatencyMaxima() {
        for member in members { member.latency.restartMaximum() }
    }

    /// Runs every sink until graceful shutdown or cancellation, then drains and finishes them.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withTaskGroup(of: Void.self) { group in
                    for member in members {
                        group.addTask { await self.supervise(member) }
                    }
                    group.addTask { await self.waitUntilClosed() }
                }
            } onCancel: {
                self.close()
            }
        } onGracefulShutdown: {
            self.close()
        }
    }

    /// Stops taking events; every sink drains what is queued and finishes.
    public func close() {
        for member in members { member.mailbox.close() }
        let waiters = closed.withLockedValue { state in
            state.isClosed = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func waitUntilClosed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = closed.withLockedValue { state in
                if state.isClosed { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    // MARK: - Supervision

    private func supervise(_ runner: Runner) async {
        let logger = runner.member.context.logger
        await withTaskGroup(of: Void.self) { group in
            if let interval = runner.member.sink.tickInterval {
                group.addTask {
                    while !runner.mailbox.isClosed {
                        do { try await Task.sleep(for: interval) } catch { return }
                        runner.mailbox.requestTick()
                    }
                }
            }
            var delay = backoff.initial
            var attemptsAfterClose = 0
            loop: while true {
                do {
                    try await runner.member.sink.start()
                    runner.setState(.running)
                    while let delivery = await runner.mailbox.next(max: Self.maxBatch) {
                        try await runner.deliver(delivery)
                        delay = backoff.initial
                    }
                    break loop
                } catch {
                    runner.recordError(error)
                    runner.setState(.restarting)
                    logger.error("sink failed; restarting", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                    if runner.mailbox.isClosed {
                        // Shutting down: a few quick retries to drain, then give up on what is left.
                        attemptsAfterClose += 1
                        if attemptsAfterClose > 3 { break loop }
                    }
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, backoff.maximum)
                }
            }
            do {
                try await runner.member.sink.finish()
            } catch {
                runner.recordError(error)
                logger.error("sink failed to finish", metadata: ["error": "\(error)"])
            }
            runner.setState(.finished)
            group.cancelAll()
        }
    }
}

extension EventHub {
    /// A member with its mailbox and counters.
    final class Runner: Sendable {
        struct Counters {
            var state: SinkSnapshot.State = .starting
            var delivered: UInt64 = 0
            var failed: UInt64 = 0
            var errors: UInt64 = 0
            var lastError: String?
            var inFlight = 0
        }

        let member: Member
        let mailbox: SinkMailbox
        let latency = LatencyHistogram()
        private let counters = NIOLockedValueBox(Counters())

        /// The sink's `interests`, read once.
        let interests: EventInterests

        init(_ member: Member) {
            self.member = member
            self.mailbox = SinkMailbox(policy: member.policy)
            self.interests = member.sink.interests
        }

        /// Queues the events of `events` this sink wants.
        func put(_ events: [StreamEvent]) async {
            let wanted = interests.filter(events)
            if !wanted.isEmpty { await mailbox.put(contentsOf: wanted[...]) }
        }

        func deliver(_ delivery: SinkMailbox.Delivery) async throws {
            if delivery.tick {
                try await member.sink.tick()
            }
            guard !delivery.events.isEmpty else { return }
            counters.withLockedValue { $0.inFlight = delivery.events.count }
            do {
                try await member.sink.consume(delivery.events)
            } catch {
                counters.withLockedValue {
                    $0.failed += UInt64($0.inFlight)
                    $0.inFlight = 0
                }
                throw error
            }
            counters.withLockedValue {
                $0.delivered += UInt64(delivery.events.count)
                $0.inFlight = 0
            }
            latency.observeAudio(in: delivery.events, nowMillis: EventClock.nowMillis())
        }

        func setState(_ state: SinkSnapshot.State) {
            counters.withLockedValue { $0.state = state }
        }

        func recordError(_ error: any Error) {
            counters.withLockedValue {
                $0.errors += 1
                $0.lastError = "\(error)"
            }
        }

        func snapshot() -> SinkSnapshot {
            let counters = counters.withLockedValue { $0 }
            var degradedReason: String?
            if case .degraded(let reason) = member.context.health { degradedReason = reason }
            let counts = member.context.counts
            return SinkSnapshot(
                id: member.id, type: member.typeName, state: counters.state,
                delivered: counters.delivered, dropped: mailbox.dropped, failed: counters.failed,
                errors: counters.errors, depth: mailbox.depth + counters.inFlight,
                capacity: member.policy.capacity, overflow: member.policy.overflow,
                lastError: counters.lastError, degradedReason: degradedReason, audioLatency: latency.snapshot,
                counts: counts.isEmpty ? nil : counts
            )
        }
    }
}
