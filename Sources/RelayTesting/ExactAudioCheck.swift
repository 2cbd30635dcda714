import RelayCore
import ZoomSimulator

extension RelayHarness {
    /// What is wrong with one stream's audio compared with what the simulator says it sent: per channel, every
    /// frame exactly once, in order, byte for byte (`SimulatedAudio.frame`), at timestamps 20 ms apart, in
    /// 16 kHz L16 mono. Empty when the audio is exact.
    public func audioProblems(streamID: String) async -> [String] {
        guard let status = await simulator.streamStatus(streamID: streamID) else { return ["the simulator does not know stream \(streamID)"] }
        let audio = audio(stream: streamID)
        var problems: [String] = []
        for (index, channelID) in SimulatedAudio.channelIDs.enumerated() {
            let frames = audio[channelID] ?? []
            if frames.count != status.framesSent[channelID] {
                problems.append("channel \(channelID): received \(frames.count), simulator sent \(status.framesSent[channelID] ?? -1)")
            }
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
            if mismatches > 0 { problems.append("channel \(channelID): \(mismatches) of \(frames.count) frames out of order or not byte-exact") }
            if !frames.allSatisfy({ $0.format == AudioFormat(sampleRate: 16_000, channels: 1, codec: .l16) }) {
                problems.append("channel \(channelID): a frame is not 16 kHz L16 mono")
            }
        }
        return problems
    }
}

extension RelayHarness {
    /// What is wrong with one stream's transcript compared with what the simulator says it sent: every segment
    /// exactly once, in order, each the line of its turn of `SimulatedConversation` from the party speaking, timed
    /// like the turn's audio (start and end at `first audio timestamp + 20 ms × frame`). Empty when it is exact.
    public func transcriptProblems(streamID: String) async -> [String] {
        guard let status = await simulator.streamStatus(streamID: streamID) else { return ["the simulator does not know stream \(streamID)"] }
        let received = transcripts(stream: streamID)
        var problems: [String] = []
        if received.count != status.transcriptsSent {
            problems.append("received \(received.count) transcript segments, simulator sent \(status.transcriptsSent)")
        }
        // Frame 0 of the call is the first audio frame (`audioProblems` checks that each channel starts there).
        let origin = audio(stream: streamID).values.compactMap { $0.first?.timestamp }.min()
        for (number, segment) in received.enumerated() {
            let turn = SimulatedConversation.turn(number)
            let expected = Transcript(
                channel: SimulatedAudio.channelID(turn.party), speaker: SimulatedAudio.participantNames[turn.party], text: turn.text,
                start: origin.map { $0 + Int64(turn.frames.lowerBound * 20) }, end: origin.map { $0 + Int64(turn.frames.upperBound * 20) },
                language: "9")
            if segment != expected { problems.append("segment \(number): \(segment), expected \(expected)") }
        }
        return problems
    }
}
