import Foundation
@testable import RTMSIngest
import RelayCore
import RelayTesting
import Testing
import ZoomSimulator

/// `audio.gap`: what Zoom never sent, said as an event (issue 19). The rule on its own, then through the relay
/// with the simulator holding back one party's frames.
@Suite("Audio gaps", .serialized, .timeLimit(.minutes(2)))
struct AudioGapTests {
    @Test("the rule: a frame more than one frame late after the party's last is a gap; a reconnect in between is its cause; pauses, late and repeated frames are not gaps")
    func rule() {
        var detector = AudioGapDetector()
        var gaps: [(Int64, Int64, AudioGap.Cause)] = []
        func feed(_ channel: String, _ timestamp: Int64) {
            if let gap = detector.frame(channel: channel, timestamp: timestamp, durationMillis: 20) { gaps.append((gap.from, gap.durationMillis, gap.cause)) }
        }
        for t in stride(from: Int64(1_000), to: 2_000, by: 20) { feed("a", t); feed("b", t) }
        #expect(gaps.isEmpty)
        feed("a", 2_020)   // one frame missing (2_000): not more than one frame
        #expect(gaps.isEmpty)
        feed("a", 2_540)   // 2_040 … 2_520 never came
        #expect(gaps.count == 1 && gaps[0].0 == 2_040 && gaps[0].1 == 500 && gaps[0].2 == .timestampJump)
        feed("a", 2_100)   // late: fills a slot, moves nothing back, reports nothing
        feed("a", 2_540)   // a repeat
        #expect(gaps.count == 1)
        detector.interrupted()
        feed("b", 3_000)   // b's last frame was at 1_980: its hole spans the interruption
        #expect(gaps.count == 2 && gaps[1].0 == 2_000 && gaps[1].1 == 1_000 && gaps[1].2 == .reconnect)
        detector.reset()   // a pause: the time without audio is not a loss
        feed("a", 60_000)
        feed("b", 60_000)
        #expect(gaps.count == 2)
        for index in 0..<200 { feed("ch\(index)", 70_000) }   // followed parties are capped
        feed("ch199", 80_000)
        #expect(gaps.count == 2, "a channel id beyond the cap is not followed")
    }

    @Test("the simulator holds back 400 ms of the caller: one audio.gap for the caller with that length (±1 frame); a buffered media drop loses nothing and reports no gap")
    func throughTheRelay() async throws {
        try await RelayHarness.run { h in
            let engagement = await h.simulator.createEngagement()
            let stream = try await h.simulator.startStream(engagementID: engagement).streamID
            try await h.waitForAudio(stream: stream, perChannel: 20)
            try await h.simulator.dropMedia(engagementID: engagement)
            try await h.waitFor(.streamResumed, stream: stream)
            let before = h.audio(stream: stream)[SimulatedAudio.channelID(1)]?.count ?? 0
            try await h.waitForAudio(stream: stream, perChannel: before + 10)
            #expect(h.events(.audioGap, stream: stream).isEmpty, "a drop the simulator buffered lost nothing: \(h.events(.audioGap, stream: stream))")

            try await h.simulator.injectSilence(engagementID: engagement, channel: 1, duration: .milliseconds(400))
            try await waitUntil(timeout: .seconds(30), "an audio.gap (\(h.summary()))") { !h.events(.audioGap, stream: stream).isEmpty }
            try await h.waitForAudio(stream: stream, perChannel: (h.audio(stream: stream)[SimulatedAudio.channelID(1)]?.count ?? 0) + 10)
            let gaps = h.events(.audioGap, stream: stream).compactMap { event -> AudioGap? in
                if case .audioGap(let gap) = event.kind { gap } else { nil }
            }
            try #require(gaps.count == 1, "\(gaps)")
            let gap = gaps[0]
            #expect(gap.channel == SimulatedAudio.channelID(1))
            #expect(abs(gap.durationMillis - 400) <= 20, "\(gap.durationMillis) ms")
            #expect(gap.cause == .timestampJump)
            // It sits exactly where the caller's frames stop: the last frame before it ends at `from`.
            let caller = h.audio(stream: stream)[SimulatedAudio.channelID(1)] ?? []
            #expect(caller.contains { $0.timestamp + 20 == gap.fromTimestamp })
            #expect(caller.contains { $0.timestamp == gap.fromTimestamp + gap.durationMillis })
            // And in the JSON every text sink writes.
            let json = String(decoding: try h.events(.audioGap, stream: stream)[0].jsonData(), as: UTF8.self)
            #expect(json.contains(#""type":"audio.gap""#) && json.contains(#""cause":"timestamp_jump""#) && json.contains(#""duration_ms":\#(gap.durationMillis)"#), "\(json)")
        }
    }
}
