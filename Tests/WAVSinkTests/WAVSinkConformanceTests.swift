import Foundation
import RelayCore
import RelayTesting
import Testing
import WAVSink

/// The sink contract every sink must keep (`SinkConformance`), on the built-in `WAVSink`.
@Suite("WAVSink keeps the sink contract")
struct WAVSinkConformanceTests {
    @Test("start, ordered batches, tick, finish; a restart; a finish with a pending batch; every event kind")
    func conforms() async throws {
        let folder = NSTemporaryDirectory() + "conformance-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let problems = await SinkConformance.check { context in WAVSink(options: WAVSinkOptions(directory: folder + "/wav", mix: .stereo), context: context) }
        #expect(problems.isEmpty, "\(problems)")
    }
}
