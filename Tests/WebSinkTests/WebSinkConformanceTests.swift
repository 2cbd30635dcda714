import Foundation
import RelayCore
import RelayTesting
import Testing
import WebSink

/// The sink contract every sink must keep (`SinkConformance`), on the built-in `WebSink`.
@Suite("WebSink keeps the sink contract")
struct WebSinkConformanceTests {
    @Test("start, ordered batches, tick, finish; a restart; a finish with a pending batch; every event kind")
    func conforms() async throws {
        let folder = NSTemporaryDirectory() + "conformance-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let problems = await SinkConformance.check { context in try WebSink(options: WebSinkOptions(), context: context) }
        #expect(problems.isEmpty, "\(problems)")
    }
}
