import Logging
@testable import RelayCore
import RelayTesting
import Testing

/// One sink's queue on its own: what the hub relies on when it hands a batch to a sink.
@Suite("SinkMailbox")
struct SinkMailboxTests {
    func events(_ range: Range<Int>) -> [StreamEvent] {
        range.map { StreamEvent(seq: UInt64($0), engagementID: "e1", streamID: "s1", kind: .streamResumed(reason: "r", attempt: $0)) }
    }

    func seqs(_ events: [StreamEvent]) -> [Int] { events.map { Int($0.seq) } }

    /// Takes everything queued, in batches of at most `max`.
    func drain(_ mailbox: SinkMailbox, max: Int = 1000) async -> [StreamEvent] {
        var all: [StreamEvent] = []
        while mailbox.depth > 0, let delivery = await mailbox.next(max: max) { all += delivery.events }
        return all
    }

    @Test("batches come out in the order they went in, at most `max` at a time")
    func order() async {
        let mailbox = SinkMailbox(policy: QueuePolicy(capacity: 100, overflow: .dropNewest))
        await mailbox.put(contentsOf: events(0..<10)[...])
        await mailbox.put(contentsOf: events(10..<25)[...])
        #expect(mailbox.depth == 25)
        let first = await mailbox.next(max: 8)
        #expect(seqs(first?.events ?? []) == Array(0..<8))
        #expect(seqs(await drain(mailbox)) == Array(8..<25))
        #expect(mailbox.dropped == 0)
    }

    @Test("drop_newest keeps the head of an oversized batch and counts the rest")
    func dropNewest() async {
        let mailbox = SinkMailbox(policy: QueuePolicy(capacity: 5, overflow: .dropNewest))
        await mailbox.put(contentsOf: events(0..<3)[...])
        await mailbox.put(contentsOf: events(3..<9)[...])
        #expect(mailbox.dropped == 4)
        #expect(seqs(await drain(mailbox)) == Array(0..<5))
    }

    @Test("drop_oldest keeps the newest events, in order, and counts what it pushed out")
    func dropOldest() async {
        let mailbox = SinkMailbox(policy: QueuePolicy(capacity: 5, overflow: .dropOldest))
        await mailbox.put(contentsOf: events(0..<3)[...])
        await mailbox.put(contentsOf: events(3..<9)[...])
        #expect(mailbox.dropped == 4)
        #expect(seqs(await drain(mailbox)) == Array(4..<9))
    }

    @Test("block queues what fits, waits for the consumer, then queues the rest: nothing lost, order kept")
    func block() async throws {
        let mailbox = SinkMailbox(policy: QueuePolicy(capacity: 3, overflow: .block))
        let producer = Task { await mailbox.put(contentsOf: events(0..<10)[...]) }
        try await waitUntil("the queue to fill") { mailbox.depth == 3 }
        var received: [StreamEvent] = []
        while received.count < 10, let delivery = await mailbox.next(max: 2) { received += delivery.events }
        await producer.value
        #expect(seqs(received) == Array(0..<10))
        #expect(mailbox.dropped == 0)
    }

    @Test("a blocked producer that is cancelled returns, and what it could not queue is counted as dropped")
    func blockCancelled() async throws {
        let mailbox = SinkMailbox(policy: QueuePolicy(capacity: 3, overflow: .block))
        let producer = Task { await mailbox.put(contentsOf: events(0..<10)[...]) }
        try await waitUntil("the queue to fill") { mailbox.depth == 3 }
        producer.cancel()
        await producer.value
        #expect(mailbox.dropped == 7)
        #expect(seqs(await drain(mailbox)) == [0, 1, 2])
    }

    @Test("close: queued events still drain, then nil; later puts are dropped and counted; blocked producers return")
    func close() async throws {
        let mailbox = SinkMailbox(policy: QueuePolicy(capacity: 2, overflow: .block))
        let producer = Task { await mailbox.put(contentsOf: events(0..<5)[...]) }
        try await waitUntil("the queue to fill") { mailbox.depth == 2 }
        mailbox.close()
        await producer.value  // returns although nothing made room
        #expect(mailbox.dropped == 3)
        await mailbox.put(contentsOf: events(5..<7)[...])
        #expect(mailbox.dropped == 5)
        let batch = await mailbox.next(max: 10)
        #expect(seqs(batch?.events ?? []) == [0, 1])
        #expect(await mailbox.next(max: 10) == nil)
        #expect(mailbox.isClosed)
    }

    @Test("a waiting consumer wakes for a batch (all of it at once), for a tick, and for close (no batch window)")
    func wakeUps() async throws {
        let mailbox = SinkMailbox(policy: QueuePolicy(capacity: 100, overflow: .dropNewest, batchWindow: .zero))
        async let batch = mailbox.next(max: 100)
        try await Task.sleep(for: .milliseconds(50))  // let it wait; correctness does not depend on it
        await mailbox.put(contentsOf: events(0..<7)[...])
        #expect(seqs(await batch?.events ?? []) == Array(0..<7))

        async let tick = mailbox.next(max: 100)
        try await Task.sleep(for: .milliseconds(50))
        mailbox.requestTick()
        let ticked = await tick
        #expect(ticked?.tick == true)
        #expect(ticked?.events.isEmpty == true)

        async let end = mailbox.next(max: 100)
        try await Task.sleep(for: .milliseconds(50))
        mailbox.close()
        #expect(await end == nil)
    }

    @Test("a woken consumer gathers a burst into one batch; a full batch ends the window at once")
    func batchWindowFilled() async throws {
        // A window far longer than the test: the batch can only come out early because it filled.
        let mailbox = SinkMailbox(policy: QueuePolicy(capacity: 100, overflow: .dropNewest, batchWindow: .seconds(600)))
        let started = ContinuousClock.now
        async let batch = mailbox.next(max: 4)
        try await waitUntil("the consumer to wait") { mailbox.consumerIsWaiting }
        await mailbox.put(contentsOf: events(0..<1)[...])
        for seq in 1..<6 { await mailbox.put(contentsOf: events(seq..<(seq + 1))[...]) }
        #expect(seqs(await batch?.events ?? []) == [0, 1, 2, 3])
        #expect(ContinuousClock.now - started < .seconds(300))
        #expect(seqs(await drain(mailbox)) == [4, 5])
    }

    @Test("the batch window ends by itself with what came; close ends it at once and the events still drain")
    func batchWindowEnds() async throws {
        let short = SinkMailbox(policy: QueuePolicy(capacity: 100, overflow: .dropNewest, batchWindow: .milliseconds(20)))
        async let lone = short.next(max: 100)
        try await waitUntil("the consumer to wait") { short.consumerIsWaiting }
        await short.put(contentsOf: events(0..<1)[...])
        #expect(seqs(await lone?.events ?? []) == [0])

        let long = SinkMailbox(policy: QueuePolicy(capacity: 100, overflow: .dropNewest, batchWindow: .seconds(600)))
        let started = ContinuousClock.now
        async let closing = long.next(max: 100)
        try await waitUntil("the consumer to wait") { long.consumerIsWaiting }
        await long.put(contentsOf: events(0..<2)[...])
        try await waitUntil("the consumer to gather") { long.consumerIsGathering }
        long.close()
        #expect(seqs(await closing?.events ?? []) == [0, 1])
        #expect(ContinuousClock.now - started < .seconds(300))
        #expect(await long.next(max: 100) == nil)
    }

    @Test("a cancelled consumer gets nil, and the events stay queued for the next one")
    func consumerCancelled() async throws {
        let mailbox = SinkMailbox(policy: QueuePolicy(capacity: 100, overflow: .dropNewest))
        let waiting = Task { await mailbox.next(max: 100) }
        try await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        #expect(await waiting.value == nil)
        await mailbox.put(contentsOf: events(0..<3)[...])
        #expect(seqs(await drain(mailbox)) == [0, 1, 2])
    }
}
