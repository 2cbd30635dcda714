import RelayCore
import RelayTesting
import Synchronization
import Testing

/// `SinkConformance` itself: it must catch a sink that breaks the contract, and say where.
@Suite("Sink conformance kit")
struct SinkConformanceTests {
    /// Breaks the contract three ways: a second `start()` throws, an event kind it was not written for throws,
    /// and `finish()` throws while a batch it took is unwritten.
    final class FragileSink: Sink {
        struct Broken: Error {}
        let starts = Mutex(0)
        let unwritten = Mutex(0)
        func start() async throws {
            if starts.withLock({ $0 += 1; return $0 }) > 1 { throw Broken() }
        }
        func consume(_ events: [StreamEvent]) async throws {
            for event in events {
                switch event.kind {
                case .audioGap: throw Broken()
                default: unwritten.withLock { $0 += 1 }
                }
            }
        }
        var tickInterval: Duration? { .seconds(1) }
        func tick() async throws { unwritten.withLock { $0 = 0 } }
        func finish() async throws {
            if unwritten.withLock({ $0 }) > 0 { throw Broken() }
        }
    }

    @Test("a sink that fails a restart, an unknown event kind and a finish with a pending batch is reported at each")
    func catchesBrokenSinks() async {
        let problems = await SinkConformance.check { _ in FragileSink() }
        #expect(problems.contains { $0.hasPrefix("start again") }, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("consume batch 2") }, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("finish with a pending batch") }, "\(problems)")
    }

    @Test("the sample call has an event of every kind")
    func everyKind() {
        let types = Set(SinkConformance.sampleBatches().flatMap { $0 }.map(\.type))
        #expect(types == Set(EventType.allCases))
    }
}
