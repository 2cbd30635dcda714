import Foundation
import RelayCore
import RelayTesting
import Testing
import JSONLinesSink

/// The sink contract every sink must keep (`SinkConformance`), on the built-in `JSONLinesSink`.
@Suite("JSONLinesSink keeps the sink contract")
struct JSONLinesSinkConformanceTests {
    @Test("start, ordered batches, tick, finish; a restart; a finish with a pending batch; every event kind")
    func conforms() async throws {
        let folder = NSTemporaryDirectory() + "conformance-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let problems = await SinkConformance.check { context in try JSONLinesSink(options: JSONLinesSinkOptions(path: folder + "/events.jsonl", audio: .summary), context: context) }
        #expect(problems.isEmpty, "\(problems)")
    }
}
