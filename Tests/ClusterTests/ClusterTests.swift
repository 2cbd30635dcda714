import AsyncHTTPClient
import Foundation
import NIOCore
import RedisClient
import RelayTesting
import Testing
import ZoomSimulator

/// Three real `rtms-relay serve` processes in cluster mode on one real redis-server, fed by the in-process Zoom
/// simulator through a load balancer that delivers every webhook to all of them.
@Suite("Cluster mode", .serialized)
struct ClusterTests {
    /// One relay process and its port.
    struct Instance {
        var process: RelayProcess
        var port: Int
        var name: String
    }

    static let leaseMilliseconds = 1500

    /// Starts Redis, the simulator, the fan-out and `count` relays; runs `body`; stops everything.
    func withCluster(count: Int = 3, _ body: (ZoomSimulator, [Instance], WebhookFanOut, RedisServerProcess) async throws -> Void) async throws {
        try await RedisServerProcess.withServer { redis in
            let simulatorHTTP = try freeLoopbackPort()
            var instances: [Instance] = []
            for index in 0..<count {
                let port = try freeLoopbackPort()
                let directory = try RelayProcess.makeTemporaryDirectory()
                try """
                    server: {host: 127.0.0.1, port: \(port), allow_anonymous: true}
                    zoom:
                      client_id: SIMCLIENTID
                      client_secret: SIMCLIENTSECRET
                      webhook_secret: \(RelayHarness.webhookSecret)
                      oauth_url: http://127.0.0.1:\(simulatorHTTP)
                      api_url: http://127.0.0.1:\(simulatorHTTP)/v2
                      rtms_allowed_hosts: ["127.0.0.1"]
                      allow_insecure_rtms: true
                    token_store: {kind: redis, url: "\(redis.url)"}
                    cluster: {redis_url: "\(redis.url)", lease_ms: \(Self.leaseMilliseconds), secret: \(RedisClusterTests.clusterSecret)}
                    sinks:
                      page: {type: web, level_interval_ms: 200}
                      log: {type: jsonl, path: events.jsonl, audio: summary}
                    """.write(to: directory.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
                let process = try RelayProcess(["serve", "--config", "config.yaml"], directory: directory)
                instances.append(Instance(process: process, port: port, name: "relay\(index)"))
            }
            for instance in instances {
                try await waitUntil(timeout: .seconds(30), "\(instance.name) to listen (log: \(instance.process.stderr.suffix(600)))") {
                    await get(instance.port, "/health") != nil
                }
            }
            let fanOut = WebhookFanOut(relayPorts: instances.map(\.port))
            try await withThrowingTaskGroup(of: Void.self) { group in
                let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
                group.addTask { try await fanOut.application { continuation.yield($0) }.run() }
                var iterator = ports.makeAsyncIterator()
                let fanOutPort = await iterator.next() ?? 0
                var configuration = SimulatorConfiguration()
                configuration.httpPort = simulatorHTTP
                configuration.webhookURL = "http://127.0.0.1:\(fanOutPort)/hook"
                let simulator = try ZoomSimulator(configuration: configuration)
                group.addTask { try await simulator.run() }
                _ = try await simulator.endpoints()
                do {
                    try await body(simulator, instances, fanOut, redis)
                } catch {
                    for instance in instances { instance.process.signal(SIGKILL) }
                    group.cancelAll()
                    throw error
                }
                await simulator.stopAllStreams()
                let running = instances.filter { $0.process.process.isRunning }
                for instance in running { instance.process.signal(SIGTERM) }
                for instance in running {
                    let status = try await instance.process.waitForExit(timeout: .seconds(15))
                    #expect(status == 0, "\(instance.name) after SIGTERM: \(instance.process.stderr.suffix(1500))")
                }
                group.cancelAll()
            }
        }
    }

    @Test("a webhook delivered to three instances gives one connection; the SSE and registry of every instance show the stream; the owner SIGKILLed → another instance takes over and audio resumes")
    func threeInstances() async throws {
        try await withCluster { simulator, instances, fanOut, redis in
            let engagement = await simulator.createEngagement()
            let stream = try await simulator.startStream(engagementID: engagement)

            // (a) Exactly one signaling and one media connection, though all three instances got rtms_started.
            try await waitUntil(timeout: .seconds(30), "the stream to flow") {
                guard let status = await simulator.streamStatus(streamID: stream.streamID) else { return false }
                return status.mediaConnections == 1 && status.framesSent.values.reduce(0, +) > 100
            }
            try await Task.sleep(for: .seconds(2))
            let status = try #require(await simulator.streamStatus(streamID: stream.streamID))
            #expect(status.signalingConnectionsAccepted == 1)
            #expect(status.mediaConnectionsAccepted == 1)
            #expect(fanOut.answered.withLockedValue { $0 }.count == 3, "every instance answered Zoom")
            let owners = await streamCounts(instances).filter { $0.value == 1 }.map(\.key)
            #expect(owners.count == 1, "instances with a session: \(owners)")
            let owner = try #require(instances.first { owners.contains($0.name) })
            let others = instances.filter { $0.name != owner.name }

            // (d) Every instance's registry says the same.
            try await waitUntil(timeout: .seconds(10), "every registry to show the stream streaming") {
                for instance in instances where await get(instance.port, "/api/engagements")?.contains(#""state":"streaming""#) != true { return false }
                return true
            }
            let lists = await instances.asyncMap { await get($0.port, "/api/engagements") ?? "" }
            #expect(Set(lists).count == 1, "engagement lists differ:\n\(lists.joined(separator: "\n"))")
            #expect(lists[0].contains(stream.streamID) && lists[0].contains(engagement))
            let active = await instances.asyncMap { await get($0.port, "/api/engagement/active") ?? "" }
            #expect(Set(active).count == 1 && active[0].contains(#""isActive":true"#) && active[0].contains(engagement), "\(active)")

            // (c) An agent page on another instance sees the stream's events and its audio levels.
            let feed = try await readEvents(port: others[0].port, engagement: engagement, until: [
                "stream.connected", "event: level", stream.streamID,
            ])
            #expect(feed.contains("stream.connected") && feed.contains("event: level") && feed.contains(#""channel":"1""#),
                    "SSE on \(others[0].name): \(feed.suffix(1500))")
            // Once each: no instance echoes events back, and several instances do not each relay them.
            func connectedCount(_ feed: String) -> Int { feed.components(separatedBy: #""type":"stream.connected""#).count - 1 }
            #expect(connectedCount(feed) == 1)
            let ownerFeed = try await readEvents(port: owner.port, engagement: engagement, until: ["stream.connected", "event: level"])
            #expect(connectedCount(ownerFeed) == 1, "SSE on the owner: \(ownerFeed.suffix(1500))")
            // … but its storage sinks do not: each event is stored once, by the owner.
            let ownerLog = jsonLines(owner)
            #expect(ownerLog.contains { $0.contains("stream.connected") && $0.contains(stream.streamID) })
            #expect(ownerLog.contains { $0.contains(#""type":"audio""#) })
            for other in others {
                #expect(!jsonLines(other).contains { $0.contains(#""type":"audio""#) || $0.contains("stream.connected") },
                        "\(other.name) stored another instance's events")
            }

            // (b) The owner dies; its lease lapses; an instance that got rtms_interrupted takes the stream over.
            let framesBefore = await simulator.streamStatus(streamID: stream.streamID)?.framesSent.values.reduce(0, +) ?? 0
            let ownersLease = try await RedisConnection(url: redis.url).send("GET", "rtms-relay:lease:\(stream.streamID)").string
            #expect(ownersLease != nil, "the owner holds the lease")
            owner.process.signal(SIGKILL)
            fanOut.remove(owner.port)
            _ = try await owner.process.waitForExit(timeout: .seconds(10))
            try await waitUntil(timeout: .seconds(30), "another instance to take the stream over") {
                guard let status = await simulator.streamStatus(streamID: stream.streamID) else { return false }
                return status.signalingConnectionsAccepted == 2 && status.mediaConnections == 1
            }
            let heirs = await streamCounts(others).filter { $0.value == 1 }.map(\.key)
            #expect(heirs.count == 1, "instances with a session after the takeover: \(heirs)")
            let heir = try #require(others.first { heirs.contains($0.name) })
            #expect(heir.process.stderr.contains("taking over a stream"))
            try await waitUntil(timeout: .seconds(15), "audio on \(heir.name)") {
                jsonLines(heir).contains { $0.contains(#""type":"audio""#) && $0.contains(stream.streamID) }
            }
            let framesAfter = await simulator.streamStatus(streamID: stream.streamID)?.framesSent.values.reduce(0, +) ?? 0
            #expect(framesAfter > framesBefore)
            // Not two leases, and the survivors still agree.
            // The lease is live and a new one (each acquisition writes a fresh token), not the dead owner's.
            let leaseStore = try RedisConnection(url: redis.url)
            let lease = try await leaseStore.send("PTTL", "rtms-relay:lease:\(stream.streamID)")
            #expect((lease.integer ?? -2) > 0, "the heir holds the lease")
            let heirsLease = try await leaseStore.send("GET", "rtms-relay:lease:\(stream.streamID)").string
            #expect(heirsLease != nil && heirsLease != ownersLease, "the lease changed hands")
            try await waitUntil(timeout: .seconds(10), "the survivors' registries to agree") {
                let lists = await others.asyncMap { await get($0.port, "/api/engagements") ?? "" }
                return Set(lists).count == 1 && lists[0].contains(#""state":"streaming""#)
            }
        }
    }

    @Test("a login started on one instance finishes on another: the OAuth state and PKCE verifier live in Redis")
    func loginAcrossInstances() async throws {
        try await withCluster(count: 2) { _, instances, _, _ in
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: .init(redirectConfiguration: .disallow))
            do {
                try await login(client: client, instances: instances)
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
    }

    func login(client: HTTPClient, instances: [Instance]) async throws {
        func location(_ url: String) async throws -> String {
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
            #expect(response.status == .found, "\(url)")
            return try #require(response.headers.first(name: "location"))
        }
        // Login on instance 0; Zoom (the simulator) answers with a redirect carrying code and state.
        let authorize = try await OAuthLogin.start(base: "http://127.0.0.1:\(instances[0].port)", client: client)
        let callback = try #require(URLComponents(string: try await location(authorize)))
        #expect(callback.path == "/api/auth/callback")
        // The load balancer sends the callback to instance 1.
        let back = try await location("http://127.0.0.1:\(instances[1].port)/api/auth/callback?\(callback.percentEncodedQuery ?? "")")
        #expect(back == "/?auth=success", "callback answered \(back)")
        // Used once: the same callback again is refused, on either instance.
        let replay = try await location("http://127.0.0.1:\(instances[0].port)/api/auth/callback?\(callback.percentEncodedQuery ?? "")")
        #expect(replay.hasPrefix("/?auth=error"))
        // The tokens are in the shared Redis token store: both instances are connected.
        for instance in instances {
            #expect(await get(instance.port, "/api/auth/status")?.contains(#""authenticated":true"#) == true)
        }
    }

    @Test("Redis down in cluster mode: the running stream goes on, /health says why; Redis back: the lease is taken again")
    func redisDown() async throws {
        try await withCluster(count: 1) { simulator, instances, _, redis in
            let relay = instances[0]
            let engagement = await simulator.createEngagement()
            let stream = try await simulator.startStream(engagementID: engagement)
            func audioLines() -> Int { jsonLines(relay).filter { $0.contains(#""type":"audio""#) }.count }
            try await waitUntil(timeout: .seconds(30), "audio") { audioLines() > 50 }

            await redis.kill()
            try await waitUntil(timeout: .seconds(10), "/health to report the cluster degraded") {
                await get(relay.port, "/health")?.contains("cluster Redis at 127.0.0.1:\(redis.port) unreachable") == true
            }
            #expect(relay.process.stderr.contains("cluster Redis unreachable: this instance acts alone"))
            let before = audioLines()
            try await waitUntil(timeout: .seconds(10), "audio to keep flowing without Redis") { audioLines() > before + 100 }
            #expect(await simulator.streamStatus(streamID: stream.streamID)?.signalingConnectionsAccepted == 1)

            try await redis.start()
            try await waitUntil(timeout: .seconds(15), "/health to recover (\(relay.process.stderr.suffix(800)))") {
                await get(relay.port, "/health")?.contains(#""status":"ok""#) == true
            }
            #expect(relay.process.stderr.contains("cluster Redis reachable again"))
            // The restarted Redis is empty: the owner takes its lease again at the next renewal.
            try await waitUntil(timeout: .seconds(10), "the lease to be taken again") {
                (try? await RedisConnection(url: redis.url).send("EXISTS", "rtms-relay:lease:\(stream.streamID)"))?.integer == 1
            }
            #expect(relay.process.stderr.contains("ownership lease had lapsed; taken again"))
            // Connections idle across the restart reconnect quietly: one outage, reported once.
            #expect(relay.process.stderr.components(separatedBy: "cluster Redis unreachable").count == 2, "\(relay.process.stderr.suffix(2000))")

            // A graceful stop closes the stream with Zoom and releases the lease and the takeover details at once.
            relay.process.signal(SIGTERM)
            #expect(try await relay.process.waitForExit(timeout: .seconds(15)) == 0)
            let probe = RedisConnection(url: try RedisURL(redis.url))
            let leaseLeft = try await probe.send("PTTL", "rtms-relay:lease:\(stream.streamID)")
            let detailsLeft = try await probe.send("EXISTS", "rtms-relay:stream:\(stream.streamID)")
            #expect(leaseLeft == .integer(-2) && detailsLeft == .integer(0), "lease \(leaseLeft), details \(detailsLeft); \(relay.process.stderr.suffix(2500))")
        }
    }

    // MARK: Helpers

    /// `streams` from each instance's `/health` (its live sessions).
    func streamCounts(_ instances: [Instance]) async -> [String: Int] {
        var counts: [String: Int] = [:]
        for instance in instances {
            guard let health = await get(instance.port, "/health"),
                  let object = try? JSONSerialization.jsonObject(with: Data(health.utf8)) as? [String: Any],
                  let streams = object["streams"] as? Int else { continue }
            counts[instance.name] = streams
        }
        return counts
    }

    func jsonLines(_ instance: Instance) -> [String] {
        let text = (try? String(contentsOf: instance.process.directory.appendingPathComponent("events.jsonl"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// Reads `GET /api/events?engagement=` until every needle appeared (or 20 s passed).
    func readEvents(port: Int, engagement: String, until needles: [String]) async throws -> String {
        let request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/events?engagement=\(engagement)")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
        #expect(response.status == .ok)
        var text = ""
        let deadline = ContinuousClock.now + .seconds(20)
        for try await chunk in response.body {
            text += String(buffer: chunk)
            if needles.allSatisfy(text.contains) || ContinuousClock.now > deadline { break }
        }
        return text
    }
}

/// The body of `GET http://127.0.0.1:port/path`, or nil when the relay does not answer.
func get(_ port: Int, _ path: String) async -> String? {
    guard let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(3)),
          let body = try? await response.body.collect(upTo: 1 << 22) else { return nil }
    return String(buffer: body)
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
