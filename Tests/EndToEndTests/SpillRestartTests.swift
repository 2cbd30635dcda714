import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RedisClient
import RelayCore
import RelayTesting
import Testing

/// `overflow: spill` with the real binaries: Redis dies under live calls, the relay spills the Redis sink's
/// queue to disk, is SIGKILLed, starts again while Redis is still down, and delivers what it spilled once Redis
/// is back — every event once, in order.
@Suite("Spilled events survive a crash", .serialized)
struct SpillRestartTests {
    func health(_ port: Int) async -> SinkStatus? {
        await SinkStatus.read(port: port, sink: "bus")
    }

    /// Every event of every `rtms:stream:*` key: (key, stable id).
    func redisEvents(_ server: RedisServerProcess) async throws -> [(key: String, id: String)] {
        let redis = try RedisConnection(url: server.url)
        var all: [(String, String)] = []
        for key in try await redis.send("KEYS", "rtms:stream:*").array?.compactMap(\.string).sorted() ?? [] {
            for entry in try await redis.send("XRANGE", key, "-", "+").array ?? [] {
                let fields = entry.array?[1].array?.compactMap(\.string) ?? []
                let id = stride(from: 0, to: fields.count - 1, by: 2).first { fields[$0] == "id" }.map { fields[$0 + 1] } ?? ""
                all.append((key, id))
            }
        }
        await redis.close()
        return all
    }

    @Test("SIGKILL while Redis is down and events are spilled; restart; Redis back: every event arrives once, in order")
    func killedWhileSpilling() async throws {
        // Stopped at the end; killed and removed by its deinit if the test fails first.
        let redis = try await RedisServerProcess(persistent: true)
        let directory = try RelayProcess.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try freeLoopbackPort()
        let simulatorHTTP = try freeLoopbackPort()
        try """
            server: {host: 127.0.0.1, port: \(port)}
            \(ShutdownTests.zoomSection(simulatorHTTP: simulatorHTTP))
            token_store: {path: data/relay.sqlite}
            sinks:
              bus:
                type: redis
                url: \(redis.url)
                audio: true
                health_interval_seconds: 0.5
                queue: {capacity: 200, overflow: spill, spill_path: data/spill/bus.sqlite}
              log: {type: jsonl, path: data/events.jsonl, audio: summary}
            """.write(to: directory.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        var relay = try RelayProcess(["serve", "--config", "config.yaml"], directory: directory)
        try await waitUntil(timeout: .seconds(30), "the relay to listen") { relay.stderr.contains("listening on") }
        let simulatorDirectory = directory.appendingPathComponent("simulator")
        try FileManager.default.createDirectory(at: simulatorDirectory, withIntermediateDirectories: true)
        let simulator = try RelayProcess(ShutdownTests.simulatorArguments(relayPort: port, simulatorHTTP: simulatorHTTP, calls: 2), directory: simulatorDirectory)
        defer { simulator.signal(SIGKILL) }

        // Audio reaches Redis, then Redis dies and the sink's queue goes to disk.
        try await waitUntil(timeout: .seconds(60), "audio in Redis (relay log: \(relay.stderr.suffix(600)))") {
            await (health(port)?.delivered ?? 0) > 200
        }
        await redis.kill()
        try await waitUntil(timeout: .seconds(30), "the Redis sink to spill") {
            guard let bus = await health(port) else { return false }
            return bus.degradedReason != nil && (bus.spilled ?? 0) > 500
        }
        relay.signal(SIGKILL)
        _ = try await relay.waitForExit(timeout: .seconds(15))
        simulator.signal(SIGTERM)
        _ = try await simulator.waitForExit(timeout: .seconds(15))

        // What the first run published, as the JSON Lines sink wrote it (up to the kill).
        let logged = try String(contentsOf: directory.appendingPathComponent("data/events.jsonl"), encoding: .utf8)
            .split(separator: "\n").compactMap { try? StreamEvent.decode(json: Data($0.utf8)).id }
        let origin = try #require(logged.first.map { String($0.prefix { $0 != "-" }) })

        // The next run, Redis still down: the spilled events wait for it.
        relay = try RelayProcess(["serve", "--config", "config.yaml"], directory: directory)
        defer { relay.signal(SIGKILL) }
        try await waitUntil(timeout: .seconds(30), "the relay to listen again") { relay.stderr.contains("listening on") }
        #expect(relay.stderr.contains("delivering events spilled by the last run before new ones"))
        let waiting = try #require(await health(port)?.spilled)
        #expect(waiting > 500)
        try await redis.start()
        try await waitUntil(timeout: .seconds(60), "the spill log to drain (relay log: \(relay.stderr.suffix(600)))") {
            guard let bus = await health(port) else { return false }
            return bus.spilled == 0 && bus.degradedReason == nil
        }
        relay.signal(SIGTERM)
        _ = try await relay.waitForExit(timeout: .seconds(15))

        let delivered = try await redisEvents(redis)
        let ids = delivered.map(\.id)
        #expect(Set(ids).count == ids.count, "no event twice: \(ids.count - Set(ids).count) duplicates")
        #expect(!ids.contains(""), "every entry carries its stable id")
        let fromFirstRun = Set(ids.filter { $0.hasPrefix(origin + "-") })
        let missing = logged.filter { !fromFirstRun.contains($0) }
        #expect(missing.isEmpty, "\(missing.count) of \(logged.count) events of the first run never reached Redis, e.g. \(missing.prefix(3))")
        #expect(fromFirstRun.count >= logged.count)
        // In order: within each engagement's stream, the first run's events by rising seq.
        for key in Set(delivered.map(\.key)) {
            let seqs = delivered.filter { $0.key == key && $0.id.hasPrefix(origin + "-") }.compactMap { UInt64($0.id.split(separator: "-")[1]) }
            #expect(seqs == seqs.sorted(), "\(key) out of order")
        }
        await redis.stop()
        print("spill across a crash: \(logged.count) events logged by the first run, \(waiting) spilled at the restart, \(fromFirstRun.count) in Redis")
    }
}
