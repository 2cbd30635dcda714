import CallSummarySink
import Foundation
import Logging
import RelayCore
import SinkTesting
import Testing

@Suite("CallSummarySink, built outside rtms-relay")
struct CallSummarySinkTests {
    func temporaryFile() -> String {
        NSTemporaryDirectory() + "call-summary-" + UUID().uuidString + ".txt"
    }

    @Test("keeps the sink contract (SinkConformance)")
    func conforms() async throws {
        let path = temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let problems = await SinkConformance.check { context in
            try CallSummarySink(options: .init(path: path), context: context)
        }
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test("one line per stopped stream: frames per party and the stop reason")
    func summarises() async throws {
        let path = temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sink = try CallSummarySink(options: .init(path: path), context: SinkContext(id: "summaries", logger: Logger(label: "test")))
        let batches = SinkConformance.sampleBatches(engagement: "eng-1", stream: "stream-1")
        try await sink.start()
        for batch in batches { try await sink.consume(batch) }
        try await sink.finish()
        var frames: [String: Int] = [:]
        var reason: StopReason?
        for event in batches.joined() {
            switch event.kind {
            case .audio(let frame): frames[frame.channel, default: 0] += 1
            case .streamStopped(let stop): reason = stop
            default: break
            }
        }
        let stop = try #require(reason)
        #expect(frames.count == 2)
        let counts = frames.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "eng-1 stream-1 \(counts) stopped:\(stop.code):\(stop.name)\n")
    }

    @Test("an empty path is refused, naming the option")
    func refusesEmptyPath() {
        #expect(throws: OptionError.self) { try CallSummarySink.Options(path: "") }
    }
}
