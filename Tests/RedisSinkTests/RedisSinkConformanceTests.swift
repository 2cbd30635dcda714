import Foundation
import RelayCore
import RelayTesting
import RedisSink
import Testing

/// The sink contract every sink must keep (`SinkConformance`), on the built-in `RedisSink` against a real
/// redis-server.
@Suite("RedisSink keeps the sink contract")
struct RedisSinkConformanceTests {
    @Test("start, ordered batches, tick, finish; a restart; a finish with a pending batch; every event kind")
    func conforms() async throws {
        try await RedisServerProcess.withServer { server in
            let url = server.url
            let problems = await SinkConformance.check { context in
                try RedisSink(options: RedisSinkOptions(url: Secret(url), audio: true), context: context)
            }
            #expect(problems.isEmpty, "\(problems)")
        }
    }
}
