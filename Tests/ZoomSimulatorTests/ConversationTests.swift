import Testing
import ZoomSimulator

/// The scripted call: the parties take turns, the audio follows the turns, and all of it is deterministic.
@Suite struct ConversationTests {
    /// The loudest sample of a frame.
    static func peak(_ bytes: [UInt8]) -> Int {
        stride(from: 0, to: bytes.count, by: 2).map { abs(Int(Int16(bitPattern: UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8))) }.max() ?? 0
    }

    @Test("the script alternates agent and caller, 12 to 20 lines, and says 'refund' and 'invoice' in its first four turns")
    func script() {
        let lines = SimulatedConversation.lines
        #expect((12...20).contains(lines.count))
        #expect(lines.enumerated().allSatisfy { $0.element.party == $0.offset % 2 })
        let opening = lines.prefix(4).map(\.text).joined(separator: " ").lowercased()
        #expect(opening.contains("refund") && opening.contains("invoice"))
        // Turns follow each other with a pause before each, and last as long as their syllables.
        var end = 0
        for turn in SimulatedConversation.script {
            #expect(turn.frames.lowerBound == end + SimulatedConversation.pauseFrames)
            #expect(turn.frames.count == SimulatedConversation.syllables(turn.text) * SimulatedConversation.framesPerSyllable)
            end = turn.frames.upperBound
        }
        #expect(SimulatedConversation.cycleFrames == end && SimulatedAudio.cycleFrames == end)
    }

    @Test("the call repeats the script: turn n + lines is turn n a cycle later; firstTurn finds the next turn to start")
    func repetition() {
        let count = SimulatedConversation.lines.count
        for n in [0, 1, count - 1, count, 2 * count + 3] {
            let turn = SimulatedConversation.turn(n)
            let again = SimulatedConversation.turn(n + count)
            #expect(again.number == n + count && again.text == turn.text && again.party == turn.party)
            #expect(again.frames == (turn.frames.lowerBound + SimulatedConversation.cycleFrames)..<(turn.frames.upperBound + SimulatedConversation.cycleFrames))
            #expect(SimulatedConversation.firstTurn(startingAtOrAfter: turn.frames.lowerBound) == n)
            #expect(SimulatedConversation.firstTurn(startingAtOrAfter: turn.frames.lowerBound + 1) == n + 1)
            #expect(SimulatedConversation.firstTurn(startingAtOrAfter: turn.frames.lowerBound - SimulatedConversation.pauseFrames) == n)
        }
        #expect(SimulatedConversation.firstTurn(startingAtOrAfter: 0) == 0)
        #expect(SimulatedConversation.firstTurn(startingAtOrAfter: SimulatedConversation.cycleFrames - 1) == count)
    }

    @Test("one party speaks at a time: the speaker's syllables are loud in the middle and faint at the edges, the other party and both pauses near-silent")
    func turnTaking() {
        let turns = SimulatedConversation.script
        for index in 0..<SimulatedAudio.cycleFrames {
            let turn = turns.first { $0.frames.contains(index) }
            for channel in 0..<2 {
                let peak = Self.peak(SimulatedAudio.frame(channel: channel, index: index))
                guard let turn, turn.party == channel else {
                    #expect(peak <= 3, "frame \(index), channel \(channel) should be near-silent")
                    continue
                }
                let offset = (index - turn.frames.lowerBound) % SimulatedConversation.framesPerSyllable
                // The 200 ms syllable envelope: rising over frames 0–4, falling over 5–9.
                if offset == 0 { #expect(peak < 2_500, "frame \(index) starts a syllable: \(peak)") }
                if offset == 4 || offset == 5 { #expect(peak > 6_000, "frame \(index) is mid-syllable: \(peak)") }
                #expect(peak <= 12_003)
            }
        }
    }

    @Test("the audio is deterministic, repeats every cycle, and no two frames of a party's cycle are alike")
    func deterministic() {
        for channel in 0..<2 {
            var seen = Set<[UInt8]>()
            for index in 0..<SimulatedAudio.cycleFrames {
                let frame = SimulatedAudio.frame(channel: channel, index: index)
                #expect(frame.count == SimulatedAudio.bytesPerFrame)
                seen.insert(frame)
            }
            #expect(seen.count == SimulatedAudio.cycleFrames, "channel \(channel): \(SimulatedAudio.cycleFrames - seen.count) repeated frames")
            for index in [0, 7, SimulatedConversation.turn(1).frames.lowerBound + 3] {
                #expect(SimulatedAudio.frame(channel: channel, index: index) == SimulatedAudio.frame(channel: channel, index: index + SimulatedAudio.cycleFrames))
            }
        }
        // The voices differ: the same moment of a turn sounds different from each party.
        let agent = SimulatedConversation.turn(0), caller = SimulatedConversation.turn(1)
        #expect(SimulatedAudio.frame(channel: 0, index: agent.frames.lowerBound + 5) != SimulatedAudio.frame(channel: 1, index: caller.frames.lowerBound + 5))
    }
}
