import Foundation
import RelayCore
import RelayTesting
import Testing
import ZoomSimulator

/// Checks the audio of one stream against what the simulator says it sent: per channel, every frame exactly
/// once, in order, byte for byte (`SimulatedAudio.frame`), with timestamps 20 ms apart.
func expectExactAudio(_ harness: RelayHarness, streamID: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let status = try #require(await harness.simulator.streamStatus(streamID: streamID))
    let audio = harness.audio(stream: streamID)
    for (index, channelID) in SimulatedAudio.channelIDs.enumerated() {
        let frames = audio[channelID] ?? []
        #expect(frames.count == status.framesSent[channelID], "channel \(channelID): received \(frames.count), simulator sent \(status.framesSent[channelID] ?? -1)", sourceLocation: sourceLocation)
        guard let first = frames.first else { continue }
        // Frame k of a channel carries timestamp start + 20·k (pauses skip frames, so k is read from the timestamp).
        var mismatches = 0
        var previous = first.timestamp - 20
        for frame in frames {
            let delta = frame.timestamp - first.timestamp
            let expected = delta % 20 == 0 ? SimulatedAudio.frame(channel: index, index: Int(delta / 20)) : []
            if frame.timestamp <= previous || Array(frame.pcm.readableBytesView) != expected { mismatches += 1 }
            previous = frame.timestamp
        }
        #expect(mismatches == 0, "channel \(channelID): \(mismatches) of \(frames.count) frames out of order or not byte-exact", sourceLocation: sourceLocation)
        #expect(frames.allSatisfy { $0.format == AudioFormat(sampleRate: 16_000, channels: 1, codec: "L16") }, sourceLocation: sourceLocation)
    }
}
