import Foundation
import RelayCore
import RelayTesting
import Testing
import SQLiteSink

/// The sink contract every sink must keep (`SinkConformance`), on the built-in `SQLiteSink`.
@Suite("SQLiteSink keeps the sink contract")
struct SQLiteSinkConformanceTests {
    @Test("start, ordered batches, tick, finish; a restart; a finish with a pending batch; every event kind")
    func conforms() async throws {
        let folder = NSTemporaryDirectory() + "conformance-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let problems = await SinkConformance.check { context in SQLiteSink(options: SQLiteSinkOptions(path: folder + "/archive.sqlite", storeAudio: true), context: context) }
        #expect(problems.isEmpty, "\(problems)")
    }
}
