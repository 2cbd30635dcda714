import Foundation
import Logging
import RTMSIngest
import RedisClient
import RelayCore
import RelayTesting
import Testing
import ZoomAPI
import ZoomWebhooks
@testable import RelayCluster

/// What an attacker with write access to the cluster's Redis (but not `cluster.secret`) can do: nothing that
/// makes an instance act. Real redis-server, real `RedisCluster`s in-process; `ClusterTests` checks `/health`
/// through the real binary.
@Suite("Cluster messages are signed", .serialized)
struct ClusterSigningTests {
    func cluster(_ redis: RedisServerProcess, secret: String = RedisClusterTests.clusterSecret) throws -> RedisCluster {
        let yaml = "cluster: {redis_url: \"\(redis.url)\", lease_ms: 1500, secret: \(secret)}\n"
        let configuration = try ConfigLoader(registry: SinkRegistry(), environment: [:]).parse(yaml: yaml, file: "test.yaml", environment: [:])
        return try RedisCluster(configuration: configuration, logger: Logger(label: "test"))
    }

    @Test("security #11: shared webhooks that are unsigned, signed with another secret, replayed or moved from another channel are ignored and counted")
    func forgedWebhooks() async throws {
        try await RedisServerProcess.withServer { redis in
            let a = try cluster(redis), b = try cluster(redis), evil = try cluster(redis, secret: "not-the-cluster-secret")
            try await withThrowingTaskGroup(of: Void.self) { services in
                for member in [a, b, evil] { services.addTask { try await member.run() } }
                let probe = RedisConnection(url: try RedisURL(redis.url))
                try await waitUntil(timeout: .seconds(10), "the instances to subscribe") {
                    try await probe.send("PUBSUB", "NUMSUB", a.keys.webhooksChannel).array?.last?.integer == 3
                }
                let seen = RecordedWebhooks()
                let (localA, feedA) = AsyncStream.makeStream(of: ZoomWebhookEvent.self)
                let (localB, feedB) = AsyncStream.makeStream(of: ZoomWebhookEvent.self)
                let (localEvil, feedEvil) = AsyncStream.makeStream(of: ZoomWebhookEvent.self)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await a.shareWebhooks(localA) { seen.add("a", $0) } }
                    group.addTask { await b.shareWebhooks(localB) { _ in } }
                    group.addTask { await evil.shareWebhooks(localEvil) { _ in } }
                    let json = try JSONEncoder().encode(SharedWebhookMessage(origin: "forger", event: RedisClusterTests.started))
                    // Unsigned, as today's code would publish it.
                    var unsigned = RedisCommand("PUBLISH", [a.keys.webhooksChannel])
                    unsigned.append(bytes: json)
                    _ = try await probe.send(unsigned)
                    // Signed with the wrong secret (by an instance configured with it).
                    feedEvil.yield(.rtmsStopped(product: .contactCenter, instanceID: "eng-1", streamID: "stream-1", stopReason: 1, eventTs: 5))
                    // Correctly signed, but 10 minutes old: a replay.
                    var replayed = RedisCommand("PUBLISH", [a.keys.webhooksChannel])
                    replayed.append(bytes: a.signer.seal(json, purpose: a.keys.webhooksChannel, nowMillis: EventClock.nowMillis() - 600_000))
                    _ = try await probe.send(replayed)
                    // Correctly signed for the events channel, published on the webhooks channel.
                    var moved = RedisCommand("PUBLISH", [a.keys.webhooksChannel])
                    moved.append(bytes: a.signer.seal(json, purpose: a.keys.eventsChannel))
                    _ = try await probe.send(moved)
                    try await waitUntil(timeout: .seconds(10), "a to refuse four messages (has \(a.rejectedMessages))") { a.rejectedMessages >= 4 }
                    #expect(seen.all.isEmpty, "a acted on a forged message: \(seen.all)")
                    #expect(a.eventRelay.context.counts["rejected_messages"] == a.rejectedMessages)
                    // An instance with the right secret is still heard.
                    feedB.yield(RedisClusterTests.started)
                    try await waitUntil(timeout: .seconds(10), "a to get b's webhook") { seen.all.count == 1 }
                    #expect(seen.all.first?.shared.isLocal == false)
                    #expect(a.rejectedMessages == 4)
                    feedA.finish()
                    group.cancelAll()
                }
                services.cancelAll()
            }
        }
    }

    @Test("security #11: stream details written to Redis without the secret, or copied from another stream's key, are not used for a takeover")
    func forgedStreamDetails() async throws {
        try await RedisServerProcess.withServer { redis in
            let a = try cluster(redis), b = try cluster(redis)
            let probe = RedisConnection(url: try RedisURL(redis.url))
            let forged = RTMSStreamDescriptor(product: .contactCenter, instanceID: "eng-1", streamID: "stream-9", serverURL: "wss://evil.example/")
            _ = try await probe.send("SET", a.keys.stream("stream-9"), String(decoding: try JSONEncoder().encode(forged), as: UTF8.self))
            #expect(await b.descriptor(streamID: "stream-9") == nil)
            #expect(b.rejectedMessages == 1)
            // A genuine descriptor is read back; copied under another stream's key it is refused.
            guard case .rtmsStarted(let descriptor, _) = RedisClusterTests.started else { return }
            await a.remember(descriptor)
            #expect(await b.descriptor(streamID: descriptor.streamID) == descriptor)
            let sealed = try #require(try await probe.send("GET", a.keys.stream(descriptor.streamID)).string)
            #expect(sealed.hasPrefix("rtms1."))
            _ = try await probe.send("SET", a.keys.stream("stream-9"), sealed)
            #expect(await b.descriptor(streamID: "stream-9") == nil)
            #expect(b.rejectedMessages == 2)
        }
    }

    @Test("security #11: through the real binary, a well-formed but unsigned rtms_started published on Redis starts nothing, and /health counts it")
    func forgedWebhookThroughBinary() async throws {
        try await ClusterTests().withCluster(count: 2) { _, instances, _, redis in
            let forged = ZoomWebhookEvent.rtmsStarted(
                RTMSStreamDescriptor(product: .contactCenter, instanceID: "E-FORGED", streamID: "S-FORGED", serverURL: "ws://127.0.0.1:9/signaling"),
                eventTs: EventClock.nowMillis())
            var publish = RedisCommand("PUBLISH", ["rtms-relay:cluster:webhooks"])
            publish.append(bytes: try JSONEncoder().encode(SharedWebhookMessage(origin: "forger", event: forged)))
            let probe = RedisConnection(url: try RedisURL(redis.url))
            try await waitUntil(timeout: .seconds(10), "both instances to subscribe") {
                try await probe.send("PUBSUB", "NUMSUB", "rtms-relay:cluster:webhooks").array?.last?.integer == 2
            }
            #expect(try await probe.send(publish).integer == 2)
            for instance in instances {
                try await waitUntil(timeout: .seconds(10), "\(instance.name)'s /health to count the forged message") {
                    await get(instance.port, "/health")?.contains(#""rejected_messages":1"#) == true
                }
            }
            try await Task.sleep(for: .seconds(1))
            for instance in instances {
                let engagements = await get(instance.port, "/api/engagements") ?? ""
                #expect(!engagements.contains("S-FORGED"), "\(instance.name) acted on the forged webhook: \(engagements)")
                #expect(instance.process.stderr.contains("cluster message refused"))
            }
        }
    }
}
