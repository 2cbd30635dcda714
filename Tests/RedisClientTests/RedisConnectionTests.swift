import RedisClient
import RelayTesting
import Testing

@Suite("RedisConnection against a real redis-server", .serialized)
struct RedisConnectionTests {
    @Test("arguments and values are binary-safe")
    func binarySafe() async throws {
        try await RedisServerProcess.withServer { server in
            let redis = try RedisConnection(url: server.url)
            let value: [UInt8] = [0, 13, 10, 255, 36, 42, 0]
            var set = RedisCommand("SET", ["bin\u{0}key"])
            set.append(bytes: value)
            #expect(try await redis.send(set) == .status("OK"))
            #expect(try await redis.send("GET", "bin\u{0}key") == .bulk(value))
            #expect(try await redis.send("GET", "missing") == .null)
        }
    }

    @Test("a pipeline returns every reply in order, error replies included")
    func pipeline() async throws {
        try await RedisServerProcess.withServer { server in
            let redis = try RedisConnection(url: server.url)
            var commands = (0..<1000).map { RedisCommand("RPUSH", ["list", "\($0)"]) }
            commands.append(RedisCommand("INCR", ["list"]))
            commands.append(RedisCommand("LRANGE", ["list", "0", "2"]))
            let replies = try await redis.pipeline(commands)
            #expect(replies.count == 1002)
            #expect(replies[0] == .integer(1) && replies[999] == .integer(1000))
            #expect(replies[1000].errorMessage?.hasPrefix("WRONGTYPE") == true)
            #expect(replies[1001] == .array([.bulk(Array("0".utf8)), .bulk(Array("1".utf8)), .bulk(Array("2".utf8))]))
        }
    }

    @Test("AUTH and SELECT come from the URL; a wrong password is refused with a clear error")
    func authAndSelect() async throws {
        try await RedisServerProcess.withServer(password: "p@ss word") { server in
            let db3 = try RedisConnection(url: "redis://:p%40ss%20word@127.0.0.1:\(server.port)/3")
            try await db3.send("SET", "k", "in-3")
            let db0 = try RedisConnection(url: "redis://:p%40ss%20word@127.0.0.1:\(server.port)")
            #expect(try await db0.send("GET", "k") == .null)
            #expect(try await db0.send("SELECT", "3") == .status("OK"))
            #expect(try await db0.send("GET", "k").string == "in-3")
            let wrong = try RedisConnection(url: "redis://:nope@127.0.0.1:\(server.port)")
            await #expect { try await wrong.send("PING") } throws: { error in
                if case RedisError.rejected = error { return true } else { return false }
            }
        }
    }

    @Test("a connection reconnects by itself after the server restarts")
    func reconnects() async throws {
        try await RedisServerProcess.withServer { server in
            let redis = try RedisConnection(url: server.url, connectTimeout: .milliseconds(500))
            #expect(try await redis.send("PING") == .status("PONG"))
            await server.kill()
            await #expect { try await redis.send("PING") } throws: { ($0 as? RedisError)?.isConnectionFailure == true }
            try await server.start()
            #expect(try await redis.send("PING") == .status("PONG"))
        }
    }

    @Test("an unreachable server is a connection failure, not a hang")
    func unreachable() async throws {
        let server = try await RedisServerProcess()
        await server.stop()
        let redis = try RedisConnection(url: server.url, connectTimeout: .milliseconds(500))
        let started = ContinuousClock.now
        await #expect { try await redis.connect() } throws: { ($0 as? RedisError)?.isConnectionFailure == true }
        // Bounded by the connect timeout (plus generous slack for a loaded machine), not by the OS's minutes.
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test("SUBSCRIBE on one connection receives what another PUBLISHes")
    func publishSubscribe() async throws {
        try await RedisServerProcess.withServer { server in
            // No command timeout: a subscriber waits as long as it takes (longer than the connect timeout here).
            let subscriber = try RedisConnection(url: server.url, connectTimeout: .milliseconds(200), commandTimeout: nil)
            try await subscriber.write([RedisCommand("SUBSCRIBE", ["news"])])
            #expect(try await subscriber.receive().array?.first?.string == "subscribe")
            let publisher = try RedisConnection(url: server.url)
            async let message = subscriber.receive()
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await publisher.send("PUBLISH", "news", "hello") == .integer(1))
            #expect(try await message == .array([.bulk(Array("message".utf8)), .bulk(Array("news".utf8)), .bulk(Array("hello".utf8))]))
        }
    }

    @Test("URLs parse host, port, credentials and database, and never print the password")
    func urls() throws {
        let url = try RedisURL("redis://relay:s3cret@redis.internal:6380/2")
        #expect(url == RedisURL(host: "redis.internal", port: 6380, user: "relay", password: "s3cret", database: 2))
        #expect(!url.description.contains("s3cret"))
        #expect(try RedisURL("redis://127.0.0.1") == RedisURL())
        #expect(try RedisURL("redis://s3cret@h").password == "s3cret")
        #expect(throws: RedisError.self) { try RedisURL("rediss://h:6379") }
        #expect(throws: RedisError.self) { try RedisURL("redis://h:6379/x") }
    }
}

@Suite("RedisLock", .serialized)
struct RedisLockTests {
    @Test("SET NX PX: one owner at a time; only the owner releases; a lapsed lock can be taken")
    func ownership() async throws {
        try await RedisServerProcess.withServer { server in
            let a = RedisLock(connection: try RedisConnection(url: server.url), key: "lock", ttl: .milliseconds(300))
            let b = RedisLock(connection: try RedisConnection(url: server.url), key: "lock", ttl: .seconds(30))
            let tokenA = try #require(try await a.tryAcquire())
            #expect(try await b.tryAcquire() == nil)
            try await Task.sleep(for: .milliseconds(600))
            let tokenB = try #require(try await b.tryAcquire())
            #expect(try await a.release(tokenA) == false)
            #expect(try await a.renew(tokenA) == false)
            #expect(try await b.tryAcquire() == nil)
            #expect(try await b.release(tokenB) == true)
            #expect(try await a.tryAcquire() != nil)
        }
    }

    @Test("withLock on two connections never runs two bodies at once")
    func mutualExclusion() async throws {
        try await RedisServerProcess.withServer { server in
            let locks = try (0..<2).map { _ in RedisLock(connection: try RedisConnection(url: server.url), key: "refresh") }
            let counter = ConcurrencyCounter()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        try await locks[index % 2].withLock {
                            await counter.enter()
                            try await Task.sleep(for: .milliseconds(10))
                            await counter.leave()
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(await counter.maximum == 1)
            #expect(await counter.total == 8)
        }
    }

    @Test("a holder keeps its lease past the ttl: withLock renews it")
    func renewal() async throws {
        try await RedisServerProcess.withServer { server in
            let holder = RedisLock(connection: try RedisConnection(url: server.url), key: "lease", ttl: .seconds(2))
            let other = RedisLock(connection: try RedisConnection(url: server.url), key: "lease")
            let takenWhileHeld = try await holder.withLock {
                try await Task.sleep(for: .seconds(5))
                return try await other.tryAcquire() != nil
            }
            #expect(!takenWhileHeld)
            #expect(try await other.tryAcquire() != nil)
        }
    }
}

actor ConcurrencyCounter {
    var current = 0, maximum = 0, total = 0
    func enter() { current += 1; total += 1; maximum = max(maximum, current) }
    func leave() { current -= 1 }
}
