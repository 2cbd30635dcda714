import NIOConcurrencyHelpers
import Logging
import RTMSIngest
import RedisClient
import RelayCluster
import RelayCore
import RelayTesting
import Testing
import ZoomAPI
import ZoomWebhooks

/// `RedisCluster`'s pieces in-process, against a real redis-server: webhook sharing, leases, the engagement log.
@Suite("RedisCluster against a real redis-server", .serialized)
struct RedisClusterTests {
    static let clusterSecret = "cluster-tests-shared-secret"

    func cluster(_ redis: RedisServerProcess, leaseMilliseconds: Int = 1500) throws -> RedisCluster {
        let yaml = "cluster: {redis_url: \"\(redis.url)\", lease_ms: \(leaseMilliseconds), secret: \(Self.clusterSecret)}\n"
        let configuration = try ConfigLoader(registry: SinkRegistry(), environment: [:]).parse(yaml: yaml, file: "test.yaml", environment: [:])
        return try RedisCluster(configuration: configuration, logger: Logger(label: "test"))
    }

    /// Runs the clusters' services around `body`.
    func running(_ clusters: [RedisCluster], _ body: () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for cluster in clusters { group.addTask { try await cluster.run() } }
            do {
                try await body()
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    static let started = ZoomWebhookEvent.rtmsStarted(
        RTMSStreamDescriptor(product: .contactCenter, instanceID: "eng-1", streamID: "stream-1", serverURL: "wss://127.0.0.1:1/signaling"),
        eventTs: 1_700_000_000_000
    )

    @Test("the same webhook delivered to two instances is acted on once by each, and only one of them calls it its own")
    func sharedWebhooks() async throws {
        try await RedisServerProcess.withServer { redis in
            let a = try cluster(redis), b = try cluster(redis)
            try await running([a, b]) {
                let probe = RedisConnection(url: try RedisURL(redis.url))
                try await waitUntil(timeout: .seconds(10), "both instances to subscribe") {
                    try await probe.send("PUBSUB", "NUMSUB", a.keys.webhooksChannel).array?.last?.integer == 2
                }
                let seen = RecordedWebhooks()
                let (localA, feedA) = AsyncStream.makeStream(of: ZoomWebhookEvent.self)
                let (localB, feedB) = AsyncStream.makeStream(of: ZoomWebhookEvent.self)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await a.shareWebhooks(localA) { seen.add("a", $0) } }
                    group.addTask { await b.shareWebhooks(localB) { seen.add("b", $0) } }
                    feedA.yield(Self.started)
                    feedB.yield(Self.started)
                    try await waitUntil(timeout: .seconds(10), "both instances to get the webhook") { seen.all.count >= 2 }
                    try await Task.sleep(for: .milliseconds(300))
                    let all = seen.all
                    #expect(all.filter { $0.instance == "a" }.count == 1)
                    #expect(all.filter { $0.instance == "b" }.count == 1)
                    #expect(all.filter(\.shared.isLocal).count == 1)
                    #expect(all.allSatisfy { $0.shared.event == Self.started })
                    group.cancelAll()
                }
            }
        }
    }

    @Test("one owner per stream: the lease is held while its owner renews it, free after release, and lapses when nobody renews it")
    func leases() async throws {
        try await RedisServerProcess.withServer { redis in
            let a = try cluster(redis, leaseMilliseconds: 600), b = try cluster(redis, leaseMilliseconds: 600)
            try await running([a, b]) {
                #expect(await a.acquire(streamID: "s1") == .acquired)
                guard case .held(let remaining) = await b.acquire(streamID: "s1") else {
                    Issue.record("a second instance got the lease")
                    return
                }
                #expect(remaining > .zero && remaining <= .milliseconds(600))
                // Three lease lengths later the owner has kept it.
                try await Task.sleep(for: .milliseconds(1800))
                #expect(await b.acquire(streamID: "s1") != .acquired)
                await a.release(streamID: "s1", ended: true)
                #expect(await b.acquire(streamID: "s1") == .acquired)
                #expect(b.ownedStreams == ["s1"] && a.ownedStreams.isEmpty)
            }
            // An owner that is not running (dead) stops renewing: its lease lapses and another instance gets it.
            let dead = try cluster(redis, leaseMilliseconds: 400)
            #expect(await dead.acquire(streamID: "s2") == .acquired)
            let heir = try cluster(redis, leaseMilliseconds: 400)
            #expect(await heir.acquire(streamID: "s2") != .acquired)
            try await Task.sleep(for: .milliseconds(600))
            #expect(await heir.acquire(streamID: "s2") == .acquired)
        }
    }

    @Test("a stream's details are kept for a takeover until it ends; forget says whether an owner remains")
    func streamDetails() async throws {
        try await RedisServerProcess.withServer { redis in
            let a = try cluster(redis), b = try cluster(redis)
            guard case .rtmsStarted(let descriptor, _) = Self.started else { return }
            await a.remember(descriptor)
            #expect(await b.descriptor(streamID: descriptor.streamID) == descriptor)
            #expect(await a.acquire(streamID: descriptor.streamID) == .acquired)
            #expect(await b.forget(streamID: descriptor.streamID) == true, "a holds the lease")
            #expect(await b.descriptor(streamID: descriptor.streamID) == nil)
            await a.release(streamID: descriptor.streamID, ended: true)
            #expect(await b.forget(streamID: descriptor.streamID) == false)
        }
    }

    @Test("every instance folds the shared engagement log into the same registry, whoever appended")
    func engagementLog() async throws {
        try await RedisServerProcess.withServer { redis in
            let a = try cluster(redis), b = try cluster(redis)
            let registryA = EngagementRegistry(), registryB = EngagementRegistry()
            #expect(await a.engagementLog.append(StreamEvent(engagementID: "e1", kind: .engagementStarted(payload: .null))))
            #expect(await b.engagementLog.append(StreamEvent(engagementID: "e1", streamID: "s1", kind: .streamStarted(serverHost: "h"))))
            #expect(await a.engagementLog.append(StreamEvent(engagementID: "e1", streamID: "s1", kind: .streamConnected(MediaParameters()))))
            await a.engagementLog.catchUp(registryA)
            await b.engagementLog.catchUp(registryB)
            let snapshot = await registryA.snapshot()
            #expect(snapshot == (await registryB.snapshot()))
            #expect(snapshot.first?.streams.first?.state == .streaming)
            // Catching up again applies nothing twice; later entries arrive.
            #expect(await b.engagementLog.append(StreamEvent(engagementID: "e1", streamID: "s1", kind: .streamStopped(StopReason(code: 20, name: "x")))))
            await a.engagementLog.catchUp(registryA)
            await a.engagementLog.catchUp(registryA)
            await b.engagementLog.catchUp(registryB)
            #expect(await registryA.snapshot() == (await registryB.snapshot()))
            #expect(await registryA.streamState("s1") == .stopped)
        }
    }

    @Test("with Redis gone every call answers at once: leases unavailable, log appends refused (recorded locally)")
    func redisGone() async throws {
        try await RedisServerProcess.withServer { redis in
            let a = try cluster(redis)
            await redis.kill()
            #expect(await a.acquire(streamID: "s1") == .unavailable)
            let start = ContinuousClock.now
            #expect(await a.acquire(streamID: "s1") == .unavailable)
            #expect(await a.engagementLog.append(StreamEvent(engagementID: "e1", kind: .engagementStarted(payload: .null))) == false)
            #expect(await a.descriptor(streamID: "s1") == nil)
            #expect(ContinuousClock.now - start < .milliseconds(500), "calls waited on a dead Redis")
            #expect(a.eventRelay.context.health != .ok)
        }
    }
}

/// What `shareWebhooks` delivered, per instance.
final class RecordedWebhooks: Sendable {
    private let entries = NIOLockedValueBox<[(instance: String, shared: SharedWebhook)]>([])
    func add(_ instance: String, _ shared: SharedWebhook) { entries.withLockedValue { $0.append((instance, shared)) } }
    var all: [(instance: String, shared: SharedWebhook)] { entries.withLockedValue { $0 } }
}
