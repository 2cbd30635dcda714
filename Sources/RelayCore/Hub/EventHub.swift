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
        /// The on-disk overflow, for `overflow: spill` (and only then).
        public var spill: (any SpillLog)?

        public init(id: String, typeName: String, policy: QueuePolicy, sink: any Sink, context: SinkContext, spill: (any SpillLog)? = nil) {
            self.id = id
            self.typeName = typeName
            self.policy = policy
            self.sink = sink
            self.context = context
            self.spill = spill
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
    /// Stamped on every event with `seq` (`StreamEvent.origin`): drawn once per process, never 0.
    public let origin = UInt64.random(in: 1...UInt64.max)
    /// Held while a batch is stamped and queued, so every queue gets events in `seq` order (a sink that dedupes
    /// by `id` after a restart relies on it). Only `block` queues that are full finish queuing outside it.
    private let publishing = NIOLock()
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
    /// for the whole batch. Waits only for a full `block` queue.
    public func publish(contentsOf events: [StreamEvent]) async {
        await offer(contentsOf: events)?.deliver()
    }

    /// `publish(contentsOf:)` without ever suspending, for a caller that must not (ingest on a NIO event loop):
    /// queues everything that fits and returns what full `block` queues could not take yet, to be delivered, in
    /// order, before the caller publishes more from the same stream.
    public func offer(contentsOf events: [StreamEvent]) -> PublishBacklog? {
        guard !events.isEmpty else { return nil }
        return offer(events, for: members)
    }

    /// Queues events another relay instance ingested (cluster mode) for the live-view sinks only
    /// (`LiveViewSink`), stamped with this hub's sequence numbers.
    public func publishRemote(_ events: [StreamEvent]) async {
        guard !events.isEmpty else { return }
        await offer(events, for: members.filter { $0.member.sink is any LiveViewSink })?.deliver()
    }

    /// Stamps `events` and queues them for `runners` in one step under `publishing`; what a full `block` queue
    /// cannot take yet is returned.
    private func offer(_ events: [StreamEvent], for runners: [Runner]) -> PublishBacklog? {
        var events = events
        let waiting = publishing.withLock {
            stamp(&events)
            return runners.compactMap { runner -> (Runner, ArraySlice<StreamEvent>)? in
                let rest = runner.offer(events)
                return rest.isEmpty ? nil : (runner, rest)
            }
        }
        return waiting.isEmpty ? nil : PublishBacklog(waiting: waiting)
    }

    private func stamp(_ events: inout [StreamEvent]) {
        let last = sequence.add(UInt64(events.count), ordering: .relaxed).newValue
        var seq = last - UInt64(events.count)
        for index in events.indices {
            seq += 1
            events[index].seq = seq
            events[index].origin = origin
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
                        // A degraded sink's queue goes to disk even when nothing is published.
                        if runner.member.policy.overflow == .spill && runner.member.context.health != .ok {
                            var nothing: ArraySlice<StreamEvent> = []
                            runner.mailbox.tryPut(&nothing)
                        }
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
                        do {
                            try await runner.deliver(delivery)
                        } catch {
                            runner.mailbox.settle(consumed: false)
                            throw error
                        }
                        runner.mailbox.settle(consumed: true)
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
                        if attemptsAfterClose > 3 {
                            runner.mailbox.keepQueuedForNextRun()
                            break loop
                        }
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

/// What full `block` queues could not take from one published batch (`EventHub.offer(contentsOf:)`).
public struct PublishBacklog: Sendable {
    fileprivate let waiting: [(EventHub.Runner, ArraySlice<StreamEvent>)]

    /// Queues the rest, waiting for room in each full queue.
    public func deliver() async {
        for (runner, rest) in waiting {
            await runner.mailbox.put(contentsOf: rest)
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
            let context = member.context
            self.mailbox = SinkMailbox(policy: member.policy, spill: member.spill,
                                       sinkIsHealthy: { context.health == .ok }, logger: member.context.logger)
            self.interests = member.sink.interests
        }

        /// Queues, without suspending, the events of `events` this sink wants; returns what a full `block` queue
        /// left over.
        func offer(_ events: [StreamEvent]) -> ArraySlice<StreamEvent> {
            var wanted = interests.filter(events)[...]
            mailbox.tryPut(&wanted)
            return wanted
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
            let spilled = mailbox.spilled
            return SinkSnapshot(
                id: member.id, type: member.typeName, state: counters.state,
                delivered: counters.delivered, dropped: mailbox.dropped, failed: counters.failed,
                errors: counters.errors, depth: mailbox.depth + counters.inFlight,
                capacity: member.policy.capacity, overflow: member.policy.overflow,
                lastError: counters.lastError, degradedReason: degradedReason, audioLatency: latency.snapshot,
                counts: counts.isEmpty ? nil : counts,
                spilled: member.spill == nil ? nil : spilled.events, spilledBytes: member.spill == nil ? nil : spilled.bytes
            )
        }
    }
}
