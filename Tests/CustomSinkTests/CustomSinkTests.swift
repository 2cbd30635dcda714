import BuiltInSinks
import CallSummarySink
import Foundation
import RelayCore
import RelayTesting
import Testing
import ZoomSimulator

@Suite("A custom sink, added the documented way")
struct CustomSinkTests {
    @Test("a sink from its own module, registered beside the built-in ones, receives a simulated call")
    func customSinkReceivesCall() async throws {
        // The one registration line of docs/writing-a-sink.md, applied to the built-in registry.
        var registry = BuiltInSinks.registry
        registry.register(CallSummarySink.self)
        let directory = try RelayProcess.makeTemporaryDirectory()
        let path = directory.appendingPathComponent("calls.txt").path
        try await RelayHarness.run(sinks: registry, sinksYAML: """
              summaries:
                type: call_summary
                path: \(path)
              log:
                type: jsonl
                path: \(directory.path)/events.jsonl
            """) { harness in
            let engagement = await harness.simulator.createEngagement()
            let started = try await harness.simulator.startStream(engagementID: engagement)
            try await harness.waitForAudio(stream: started.streamID, perChannel: 25)
            try await harness.simulator.stopStream(engagementID: engagement)
            try await harness.waitFor(.streamStopped)
            try await waitUntil("the summary line") { (try? String(contentsOfFile: path, encoding: .utf8))?.contains("stopped:") == true }
            let line = try String(contentsOfFile: path, encoding: .utf8)
            // The custom sink saw exactly what every sink saw before the stream stopped (same order for all sinks).
            var before: [String: Int] = [:]
            for event in harness.sink.events where event.streamID == started.streamID {
                if case .streamStopped = event.kind { break }
                if case .audio(let frame) = event.kind { before[frame.channel, default: 0] += 1 }
            }
            #expect(before.values.allSatisfy { $0 >= 25 })
            let counts = SimulatedAudio.channelIDs.map { "\($0)=\(before[$0] ?? 0)" }.joined(separator: ",")
            #expect(line == "\(engagement) \(started.streamID) \(counts) stopped:25:STOP_BC_MANUAL_API_TRIGGERED\n")
            #expect(harness.relay.hub.snapshot().map(\.id).contains("summaries"))
        }
    }

    @Test("check-config style documentation lists the custom type with its options")
    func documented() {
        var registry = BuiltInSinks.registry
        registry.register(CallSummarySink.self)
        let text = registry.documentation()
        #expect(text.contains("call_summary: one line per finished stream"))
        #expect(text.contains("path (string): file to append one summary line per stream to"))
    }
}
