import Foundation
import Logging
import NIOCore
import RedisClient
import RedisSink
import RelayCore
import RelayTesting
import ServiceLifecycle
import Testing

@Suite("Redis sink against a real redis-server", .serialized)
struct RedisSinkTests {
    static let logger = Logger(label: "redis-sink-tests")

    func events(engagement: String = "eng-1") -> [StreamEvent] {
        let pcm = ByteBuffer(bytes: [1, 2, 3, 4, 250, 0])
        return [
            StreamEvent(seq: 1, engagementID: engagement, streamID: "st-1", kind: .streamStarted(serverHost: "rtms.zoom.us")),
            StreamEvent(seq: 2, engagementID: engagement, streamID: "st-1", kind: .audio(AudioFrame(channel: "ch-1", timestamp: 1_000, pcm: pcm))),
            StreamEvent(seq: 3, engagementID: engagement, streamID: "st-1", kind: .transcript(Transcript(channel: "ch-1", text: "hello"))),
        ]
    }

    @Test("non-audio events are published on {prefix}events and added to {prefix}stream:{engagement}; audio stays out by default")
    func keysAndMessages() async throws {
        try await RedisServerProcess.withServer { server in
            let subscriber = try RedisConnection(url: server.url, commandTimeout: .seconds(10))
            try await subscriber.write([RedisCommand("SUBSCRIBE", ["bus:events"])])
            _ = try await subscriber.receive()
            let sink = try RedisSink(options: RedisSinkOptions(url: Secret(server.url), keyPrefix: "bus:"), context: SinkContext(id: "bus", logger: Self.logger))
            try await sink.start()
            #expect(!sink.interests.contains(.audio))  // without `audio: true` the hub never hands it audio
            try await sink.consume(sink.interests.filter(events()))
            try await sink.finish()

            let entries = try await StreamEntries.read(server: server, key: "bus:stream:eng-1")
            #expect(entries.map(\.type) == ["stream.started", "transcript"])
            #expect(entries.map(\.event.seq) == [1, 3])
            var published: [StreamEvent] = []
            for _ in 0..<2 {
                let message = try #require(try await subscriber.receive().array)
                #expect(message[1].string == "bus:events")
                published.append(try StreamEvent.decode(json: Data(message[2].string!.utf8)))
            }
            #expect(published.map(\.seq) == [1, 3])
            #expect(published.map(\.type) == [.streamStarted, .transcript])
        }
    }

    @Test("with audio: true, frames go into the stream with their PCM in base64, and are not published")
    func audioInStream() async throws {
        try await RedisServerProcess.withServer { server in
            let sink = try RedisSink(options: RedisSinkOptions(url: Secret(server.url), audio: true), context: SinkContext(id: "bus", logger: Self.logger))
            try await sink.consume(events())
            try await sink.finish()
            let entries = try await StreamEntries.read(server: server, key: "rtms:stream:eng-1")
            #expect(entries.map(\.type) == ["stream.started", "audio", "transcript"])
            guard case .audio(let frame) = entries[1].event.kind else { Issue.record("not audio"); return }
            #expect(Array(frame.pcm.readableBytesView) == [1, 2, 3, 4, 250, 0])
            let redis = try RedisConnection(url: server.url)
            #expect(try await redis.send("PUBSUB", "NUMSUB", "rtms:events").array?[1] == .integer(0))
        }
    }

    @Test("a batch sent again (its reply lost, or read again from the spill log after a crash) is written once; another hub's events are not mistaken for it")
    func deliveredOnce() async throws {
        try await RedisServerProcess.withServer { server in
            let sink = try RedisSink(options: RedisSinkOptions(url: Secret(server.url)), context: SinkContext(id: "bus", logger: Self.logger))
            func stamped(_ seqs: ClosedRange<UInt64>, origin: UInt64) -> [StreamEvent] {
                seqs.map {
                    var event = StreamEvent(seq: $0, engagementID: "e", kind: .transcript(Transcript(channel: "c", text: "t\($0)")))
                    event.origin = origin
                    return event
                }
            }
            try await sink.consume(stamped(1...3, origin: 0x1234))
            try await sink.consume(stamped(2...4, origin: 0x1234))
            try await sink.consume(stamped(1...1, origin: 0x99))  // the next run's hub starts its seq again
            try await sink.finish()
            let entries = try await StreamEntries.read(server: server, key: "rtms:stream:e")
            #expect(entries.map(\.event.seq) == [1, 2, 3, 4, 1])
            #expect(entries.map(\.id) == ["1234-1", "1234-2", "1234-3", "1234-4", "99-1"])
            #expect(entries.map { $0.event.id } == entries.map(\.id))
            let marks = try await RedisConnection(url: server.url).send("HGETALL", "rtms:delivered").array?.compactMap(\.string) ?? []
            var highest: [String: String] = [:]
            for pair in stride(from: 0, to: marks.count - 1, by: 2) { highest[marks[pair]] = marks[pair + 1] }
            #expect(highest == ["1234": "4", "99": "1"])
        }
    }

    @Test("streams are capped near max_len")
    func maxLength() async throws {
        try await RedisServerProcess.withServer { server in
            let sink = try RedisSink(options: RedisSinkOptions(url: Secret(server.url), maxLength: 100), context: SinkContext(id: "bus", logger: Self.logger))
            let batch = (1...2_000).map { StreamEvent(seq: UInt64($0), engagementID: "e", kind: .transcript(Transcript(channel: "c", text: "t\($0)"))) }
            try await sink.consume(batch)
            try await sink.finish()
            let length = try await RedisConnection(url: server.url).send("XLEN", "rtms:stream:e").integer ?? 0
            #expect(length >= 100 && length < 1_000)
        }
    }

    @Test("options: defaults, and max_len must be positive")
    func options() throws {
        let defaults = try JSONDecoder().decode(RedisSinkOptions.self, from: Data("{}".utf8))
        #expect(defaults.url.value == "redis://127.0.0.1:6379" && defaults.keyPrefix == "rtms:" && !defaults.audio && defaults.maxLength == 100_000)
        #expect(throws: OptionError.self) { try JSONDecoder().decode(RedisSinkOptions.self, from: Data(#"{"max_len": 0}"#.utf8)) }
        #expect(throws: OptionError.self) {
            try RedisSink(options: RedisSinkOptions(url: Secret("http://x")), context: SinkContext(id: "bus", logger: Self.logger))
        }
    }

    @Test("Redis killed and restarted mid-stream: degraded meanwhile, no event lost, order kept, other sinks unaffected")
    func killAndRestart() async throws {
        try await RedisServerProcess.withServer(persistent: true) { server in
            let context = SinkContext(id: "bus", logger: Self.logger)
            let sink = try RedisSink(options: RedisSinkOptions(url: Secret(server.url)), context: context)
            let recording = RecordingSink()
            let policy = QueuePolicy(capacity: 50_000, overflow: .dropNewest)
            let hub = EventHub(members: [
                EventHub.Member(id: "bus", typeName: RedisSink.typeName, policy: policy, sink: sink, context: context),
                EventHub.Member(id: "rec", typeName: RecordingSink.typeName, policy: policy, sink: recording, context: SinkContext(id: "rec", logger: Self.logger)),
            ], logger: Self.logger)
            let total = 3_000
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await hub.run() }
                for index in 1...total {
                    await hub.publish(.transcript(Transcript(channel: "c", text: "line \(index)")), engagementID: "eng-kill")
                    if index % 100 == 0 { try await Task.sleep(for: .milliseconds(2)) }
                    if index == 1_000 { await server.kill() }
                }
                // Redis is down: the other sink has everything, the Redis sink says why it is behind.
                _ = try await recording.expectEvents(count: total, timeout: .seconds(30))
                try await waitUntil(timeout: .seconds(30), "degraded health") {
                    if case .degraded = context.health { true } else { false }
                }
                let whileDown = try #require(hub.snapshot().first { $0.id == "bus" })
                #expect(whileDown.delivered < UInt64(total) && whileDown.depth > 0 && whileDown.degradedReason != nil)
                try await server.start()
                try await waitUntil(timeout: .seconds(60), "every event in Redis") {
                    let seqs = Set(try await StreamEntries.read(server: server, key: "rtms:stream:eng-kill").map(\.event.seq))
                    return seqs.count == total
                }
                #expect(context.health == .ok)
                hub.close()
                try await group.waitForAll()
            }
            let seqs = try await StreamEntries.read(server: server, key: "rtms:stream:eng-kill").map(\.event.seq)
            var firstSeen: [UInt64] = []
            var seen = Set<UInt64>()
            for seq in seqs where seen.insert(seq).inserted { firstSeen.append(seq) }
            #expect(firstSeen == Array(1...UInt64(total)))
            let snapshot = try #require(hub.snapshot().first { $0.id == "bus" })
            #expect(snapshot.dropped == 0 && snapshot.failed == 0)
        }
    }

    @Test("with only audio flowing (audio: false) a SIGKILLed Redis shows as degraded within 3 s, and ok again once it answers")
    func livenessWhileIdle() async throws {
        try await RedisServerProcess.withServer { server in
            let context = SinkContext(id: "bus", logger: Self.logger)
            let sink = try RedisSink(options: RedisSinkOptions(url: Secret(server.url), healthIntervalSeconds: 1), context: context)
            let hub = EventHub(members: [
                EventHub.Member(id: "bus", typeName: RedisSink.typeName, policy: QueuePolicy(capacity: 10_000, overflow: .dropNewest), sink: sink, context: context),
            ], logger: Self.logger)
            let audio = DeterministicAudio()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await hub.run() }
                // Audio keeps flowing for the whole test: nothing of it goes to Redis.
                group.addTask {
                    var frame = 0
                    while !Task.isCancelled {
                        await hub.publish(audio.event(engagement: "eng-audio", stream: "s", channel: "a", party: 0, frame: frame).kind, engagementID: "eng-audio", streamID: "s")
                        frame += 1
                        try await Task.sleep(for: .milliseconds(20))
                    }
                }
                try await Task.sleep(for: .seconds(1.5))
                #expect(context.health == .ok)
                await server.kill()
                let killed = ContinuousClock.now
                try await waitUntil(timeout: .seconds(30), "degraded health") {
                    if case .degraded = context.health { true } else { false }
                }
                let noticed = ContinuousClock.now - killed
                #expect(noticed <= .seconds(3), "a dead Redis went unnoticed for \(noticed)")
                try await server.start()
                try await waitUntil(timeout: .seconds(30), "ok health after Redis is back") { context.health == .ok }
                group.cancelAll()
                hub.close()
                try? await group.waitForAll()
            }
        }
    }

    @Test("a graceful shutdown with Redis down does not wait for Redis")
    func shutdownWithRedisDown() async throws {
        let server = try await RedisServerProcess()
        let url = server.url
        await server.stop()
        let context = SinkContext(id: "bus", logger: Self.logger)
        let sink = try RedisSink(options: RedisSinkOptions(url: Secret(url)), context: context)
        let hub = EventHub(members: [EventHub.Member(id: "bus", typeName: RedisSink.typeName, policy: QueuePolicy(), sink: sink, context: context)], logger: Self.logger)
        let group = ServiceGroup(configuration: .init(services: [hub], logger: Self.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            for index in 1...1_000 {
                await hub.publish(.transcript(Transcript(channel: "c", text: "line \(index)")), engagementID: "eng")
            }
            try await waitUntil(timeout: .seconds(30), "degraded health") {
                if case .degraded = context.health { true } else { false }
            }
            // Measured from the one shutdown request to the group's return. The sink's longest wait without
            // Redis is one retry delay (at most 5 s) and a failed connect; 15 s leaves room for a busy machine and
            // still fails a sink that waits for Redis (it would not return before the 60 s guard).
            let begun = ContinuousClock.now
            await group.triggerGracefulShutdown()
            tasks.addTask {
                try await Task.sleep(for: .seconds(60))
                throw ShutdownHung()
            }
            try await tasks.next()
            let elapsed = ContinuousClock.now - begun
            tasks.cancelAll()
            #expect(elapsed < .seconds(15), "the shutdown took \(elapsed)")
        }
        let snapshot = try #require(hub.snapshot().first)
        #expect(snapshot.state == .finished)
        // The hub counts a batch delivered once it is on its way (one batch early), so at most one batch
        // shows as delivered; what could not be sent shows as failed.
        #expect(snapshot.delivered <= UInt64(EventHub.maxBatch) && snapshot.failed > 0)
    }

    struct ShutdownHung: Error, CustomStringConvertible {
        var description: String { "the graceful shutdown had not finished after 60 s: the sink waited for Redis" }
    }
}

/// Reads a Redis stream written by the sink: each entry's `type` field and decoded `event`.
enum StreamEntries {
    struct Entry {
        var type: String
        /// The `id` field: the event's stable id, empty for an event no hub stamped.
        var id: String
        var event: StreamEvent
    }

    static func read(server: RedisServerProcess, key: String) async throws -> [Entry] {
        let redis = try RedisConnection(url: server.url)
        let reply = try await redis.send("XRANGE", key, "-", "+")
        return try (reply.array ?? []).map { entry in
            let fields = entry.array?[1].array ?? []
            var values: [String: String] = [:]
            for pair in stride(from: 0, to: fields.count - 1, by: 2) {
                values[fields[pair].string ?? ""] = fields[pair + 1].string
            }
            return Entry(type: values["type"] ?? "", id: values["id"] ?? "", event: try StreamEvent.decode(json: Data((values["event"] ?? "").utf8)))
        }
    }
}
