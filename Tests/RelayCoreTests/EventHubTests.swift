import Logging
import NIOCore
import RelayCore
import RelayTesting
import Testing

@Suite("EventHub fan-out")
struct EventHubTests {
    struct Boom: Error, CustomStringConvertible {
        var description: String { "boom" }
    }

    func member(_ id: String, _ sink: any Sink, capacity: Int = 10_000, overflow: QueuePolicy.Overflow = .dropNewest) -> EventHub.Member {
        EventHub.Member(id: id, typeName: "test", policy: QueuePolicy(capacity: capacity, overflow: overflow), sink: sink, context: SinkContext(id: id, logger: Logger(label: "test")))
    }

    func event(_ index: Int, stream: String = "s1") -> StreamEvent {
        StreamEvent(engagementID: "e1", streamID: stream, kind: .streamResumed(reason: "\(index)", attempt: index))
    }

    func attempts(_ events: [StreamEvent]) -> [Int] {
        events.map { if case .streamResumed(_, let attempt) = $0.kind { attempt } else { -1 } }
    }

    /// Runs `body` with the hub running in a child task; closes the hub and waits for it afterwards.
    func withHub(_ hub: EventHub, _ body: () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await hub.run() }
            try await body()
            hub.close()
            try await group.waitForAll()
        }
    }

    @Test("a stalled sink does not slow the producer or the other sinks")
    func stalledSinkIsolated() async throws {
        let stalled = RecordingSink(stalled: true)
        let fast = RecordingSink()
        let hub = EventHub(members: [member("stalled", stalled, capacity: 100), member("fast", fast)], logger: Logger(label: "test"))
        try await withHub(hub) {
            let clock = ContinuousClock()
            let elapsed = try await clock.measure {
                for i in 0..<5_000 { await hub.publish(event(i)) }
                try await fast.expectEvents(count: 5_000)
            }
            // Generous bound: the point is that publishing did not wait on the stalled sink at all.
            #expect(elapsed < .seconds(5))
            #expect(attempts(fast.events) == Array(0..<5_000))
            #expect(stalled.events.isEmpty)
            let snapshot = hub.snapshot().first { $0.id == "stalled" }!
            // The stalled sink holds one batch in flight plus a full queue; the rest were dropped, counted exactly.
            #expect(snapshot.depth + Int(snapshot.dropped) == 5_000)
            #expect(snapshot.depth <= 100 + EventHub.maxBatch)
            await stalled.release()
        }
    }

    @Test("drop_newest keeps the oldest events and counts every drop exactly")
    func dropNewest() async throws {
        let sink = RecordingSink(stalled: true)
        let hub = EventHub(members: [member("s", sink, capacity: 10, overflow: .dropNewest)], logger: Logger(label: "test"))
        // Publish before the hub runs, so the queue alone decides.
        for i in 0..<25 { await hub.publish(event(i)) }
        #expect(hub.snapshot()[0].dropped == 15)
        #expect(hub.snapshot()[0].depth == 10)
        try await withHub(hub) {
            await sink.release()
            try await sink.expectEvents(count: 10)
        }
        #expect(attempts(sink.events) == Array(0..<10))
        #expect(hub.snapshot()[0].delivered == 10)
        #expect(hub.snapshot()[0].dropped == 15)
    }

    @Test("drop_oldest keeps the newest events, in order")
    func dropOldest() async throws {
        let sink = RecordingSink()
        let hub = EventHub(members: [member("s", sink, capacity: 10, overflow: .dropOldest)], logger: Logger(label: "test"))
        for i in 0..<25 { await hub.publish(event(i)) }
        #expect(hub.snapshot()[0].dropped == 15)
        try await withHub(hub) { try await sink.expectEvents(count: 10) }
        #expect(attempts(sink.events) == Array(15..<25))
    }

    @Test("block makes the producer wait and loses nothing")
    func blockLosesNothing() async throws {
        let sink = RecordingSink(stalled: true)
        let hub = EventHub(members: [member("s", sink, capacity: 5, overflow: .block)], logger: Logger(label: "test"))
        try await withHub(hub) {
            let producer = Task {
                for i in 0..<200 { await hub.publish(event(i)) }
            }
            try await Task.sleep(for: .milliseconds(200))
            // The producer is stuck: at most one batch in flight plus a full queue was accepted.
            #expect(hub.snapshot()[0].depth <= 5 + 5)
            await sink.release()
            await producer.value
            try await sink.expectEvents(count: 200)
        }
        #expect(attempts(sink.events) == Array(0..<200))
        #expect(hub.snapshot()[0].dropped == 0)
    }

    @Test("events keep their order per stream under concurrent producers")
    func orderPerStream() async throws {
        let sink = RecordingSink()
        let hub = EventHub(members: [member("s", sink)], logger: Logger(label: "test"))
        try await withHub(hub) {
            await withTaskGroup(of: Void.self) { group in
                for stream in 0..<4 {
                    group.addTask {
                        for i in 0..<1_000 { await hub.publish(event(i, stream: "s\(stream)")) }
                    }
                }
            }
            try await sink.expectEvents(count: 4_000)
        }
        for stream in 0..<4 {
            #expect(attempts(sink.events.filter { $0.streamID == "s\(stream)" }) == Array(0..<1_000))
        }
        let seqs = sink.events.map(\.seq)
        #expect(Set(seqs).count == 4_000)
    }

    @Test("a sink that throws is restarted with backoff while the others go on")
    func restartAfterFailure() async throws {
        let failing = RecordingSink()
        let healthy = RecordingSink()
        let hub = EventHub(
            members: [member("failing", failing), member("healthy", healthy)], logger: Logger(label: "test"),
            backoff: .init(initial: .milliseconds(20), maximum: .milliseconds(100))
        )
        failing.failNextConsume(with: Boom())
        try await withHub(hub) {
            await hub.publish(event(0))
            try await healthy.expectEvents(count: 1)
            try await waitUntil { hub.snapshot()[0].errors == 1 }
            #expect(hub.snapshot()[0].lastError == "boom")
            #expect(hub.snapshot()[0].failed == 1)
            for i in 1...3 { await hub.publish(event(i)) }
            try await failing.expectEvents(count: 3)
            try await healthy.expectEvents(count: 4)
        }
        #expect(failing.starts == 2)
        #expect(attempts(failing.events) == [1, 2, 3])
        #expect(hub.snapshot()[0].state == .finished)
    }

    @Test("closing drains every queue and runs every sink's finish")
    func drainOnClose() async throws {
        let a = RecordingSink(), b = RecordingSink()
        let hub = EventHub(members: [member("a", a), member("b", b)], logger: Logger(label: "test"))
        for i in 0..<300 { await hub.publish(event(i)) }
        hub.close()
        try await hub.run()
        #expect(a.events.count == 300 && b.events.count == 300)
        #expect(a.finished && b.finished)
        // After close, publishing is refused and counted.
        await hub.publish(event(301))
        #expect(hub.snapshot()[0].dropped == 1)
    }

    @Test("audio latency is measured from Zoom's frame timestamp to each sink's completion")
    func audioLatency() async throws {
        let sink = RecordingSink()
        let hub = EventHub(members: [member("s", sink)], logger: Logger(label: "test"))
        let now = EventClock.nowMillis()
        try await withHub(hub) {
            // Far apart, so the buckets are certain however slow the machine: a fresh frame and a minute-old one.
            for age in [0, 60_000] as [Int64] {
                await hub.publish(StreamEvent(engagementID: "e", kind: .audio(AudioFrame(channel: "1", timestamp: now - age, pcm: ByteBuffer()))))
            }
            await hub.publish(event(0))
            try await sink.expectEvents(count: 3)
        }
        let latency = hub.snapshot()[0].audioLatency
        #expect(latency.count == 2)
        #expect(latency.buckets.last == 1)
        #expect(latency.buckets.dropLast().reduce(0, +) == 1)
        #expect(latency.quantileUpperBoundMillis(0.5)! < 10_000)
        #expect(latency.quantileUpperBoundMillis(1.0) == latency.maxMillis)
        #expect(latency.maxMillis >= 60_000)
        #expect(latency.sumMillis >= 60_000)
        // A window after a restarted maximum sees only what came since.
        let before = latency
        hub.restartLatencyMaxima()
        #expect(hub.snapshot()[0].audioLatency.maxMillis == 0)
        #expect(hub.snapshot()[0].audioLatency.since(before).count == 0)
    }

    @Test("a sink's reported trouble shows in its snapshot")
    func degradedHealth() async throws {
        let context = SinkContext(id: "w", logger: Logger(label: "test"))
        let hub = EventHub(members: [EventHub.Member(id: "w", typeName: "test", policy: QueuePolicy(), sink: RecordingSink(), context: context)], logger: Logger(label: "test"))
        #expect(hub.snapshot()[0].isDegraded == false)
        context.reportHealth(.degraded("disk full"))
        #expect(hub.snapshot()[0].degradedReason == "disk full")
        #expect(hub.snapshot()[0].isDegraded)
    }

    @Test("a batch is stamped with consecutive sequence numbers and reaches each sink whole and in order")
    func batchPublish() async throws {
        let a = RecordingSink(), b = RecordingSink()
        let hub = EventHub(members: [member("a", a), member("b", b)], logger: Logger(label: "test"))
        try await withHub(hub) {
            await hub.publish(event(0))
            await hub.publish(contentsOf: (1..<300).map { event($0) })
            await hub.publish(event(300))
            try await a.expectEvents(count: 301)
            try await b.expectEvents(count: 301)
        }
        for sink in [a, b] {
            #expect(sink.events.map(\.seq) == Array(1...301))
            #expect(attempts(sink.events) == Array(0...300))
        }
        #expect(hub.publishedCount == 301)
    }

    @Test("each sink gets only the kinds it asked for; what it did not ask for is neither queued nor dropped")
    func interests() async throws {
        let everything = RecordingSink()
        let noAudio = RecordingSink(interests: .allButAudio)
        let stops = RecordingSink(interests: .only([.streamStopped]))
        // A tiny queue: had the audio been queued for `noAudio`, it would have overflowed.
        let hub = EventHub(members: [member("all", everything), member("no_audio", noAudio, capacity: 5), member("stops", stops, capacity: 5)],
                           logger: Logger(label: "test"))
        var batch = (0..<200).map { StreamEvent(engagementID: "e1", streamID: "s1", kind: .audio(AudioFrame(channel: "\($0 % 2)", timestamp: Int64($0) * 20, pcm: ByteBuffer()))) }
        batch.insert(event(1), at: 100)
        batch.append(StreamEvent(engagementID: "e1", streamID: "s1", kind: .streamStopped(StopReason(code: 1, name: "STOP_BC_HOST_TRIGGERED"))))
        try await withHub(hub) {
            await hub.publish(contentsOf: batch)
            try await everything.expectEvents(count: 202)
            try await noAudio.expectEvents(count: 2)
            try await stops.expectEvents(count: 1)
        }
        #expect(noAudio.events.map(\.type) == [.streamResumed, .streamStopped])
        #expect(stops.events.map(\.type) == [.streamStopped])
        // The kept events carry the sequence numbers the whole batch was stamped with.
        #expect(noAudio.events.map(\.seq) == [101, 202])
        for snapshot in hub.snapshot() {
            #expect(snapshot.dropped == 0, "\(snapshot.id)")
        }
        #expect(hub.snapshot().map(\.delivered) == [202, 2, 1])
    }

    @Test("interests: all and allExcept take kinds added later, only does not; every kind fits the mask")
    func interestsSemantics() {
        #expect(EventType.allCases.count <= 64)
        for type in EventType.allCases {
            #expect(EventInterests.all.contains(type))
            #expect(EventInterests.allButAudio.contains(type) == (type != .audio))
            #expect(EventInterests.only([.transcript]).contains(type) == (type == .transcript))
        }
        #expect(EventInterests.all.isAll)
        #expect(!EventInterests.allButAudio.isAll)
        #expect(EventInterests.only([.audio, .audioGap]).description == "audio, audio.gap")
    }
}
