import RelayTesting
import Testing

/// Checks the audio of one stream against what the simulator says it sent (`RelayHarness.audioProblems`).
func expectExactAudio(_ harness: RelayHarness, streamID: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let problems = await harness.audioProblems(streamID: streamID)
    #expect(problems.isEmpty, "\(problems.joined(separator: "; "))", sourceLocation: sourceLocation)
}
