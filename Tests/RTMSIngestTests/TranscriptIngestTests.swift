import Foundation
import RTMSIngest
import RelayCore
import RelayTesting
import Testing
import ZoomSimulator

/// Zoom's live transcript through the relay: asked for in the media handshake, received from the simulator's
/// scripted call, published as `transcript` events.
@Suite("Transcripts from the simulator through the relay (issue 16)", .serialized, .timeLimit(.minutes(2)))
struct TranscriptIngestTests {
    @Test("the relay asks for audio and transcripts; each turn arrives once, from the party speaking, timed like its audio, through a media drop")
    func transcriptsArrive() async throws {
        try await RelayHarness.run { h in
            let engagement = await h.simulator.createEngagement()
            let stream = try await h.simulator.startStream(engagementID: engagement).streamID
            try await waitUntil(timeout: .seconds(30), "the first transcript segment (\(h.summary()))") { !h.transcripts(stream: stream).isEmpty }
            try await h.simulator.dropMedia(engagementID: engagement)
            try await h.waitFor(.streamResumed, stream: stream)
            try await waitUntil(timeout: .seconds(30), "the second transcript segment (\(h.summary()))") { h.transcripts(stream: stream).count >= 2 }
            try await h.simulator.stopStream(engagementID: engagement)
            try await h.waitFor(.streamStopped, stream: stream)
            try await Task.sleep(for: .milliseconds(300))

            let problems = await h.transcriptProblems(streamID: stream)
            #expect(problems.isEmpty, "\(problems.joined(separator: "; "))")
            try await expectExactAudio(h, streamID: stream)
            let parties = Set(h.transcripts(stream: stream).map(\.channel))
            #expect(parties == Set(SimulatedAudio.channelIDs))
            #expect(h.transcripts(stream: stream).first?.text.contains("Northwind") == true)
        }
    }

    @Test("zoom.transcripts false: the relay asks for audio only, so no segment is sent or published")
    func transcriptsOff() async throws {
        try await RelayHarness.run(transcripts: false) { h in
            let engagement = await h.simulator.createEngagement()
            let stream = try await h.simulator.startStream(engagementID: engagement).streamID
            // Well past the end of the first turn, when a segment would be due.
            try await h.waitForAudio(stream: stream, perChannel: SimulatedConversation.turn(0).frames.upperBound + 25)
            #expect(await h.simulator.streamStatus(streamID: stream)?.transcriptsSent == 0)
            #expect(h.transcripts(stream: stream).isEmpty)
            try await h.simulator.stopStream(engagementID: engagement)
            try await h.waitFor(.streamStopped, stream: stream)
            try await expectExactAudio(h, streamID: stream)
        }
    }

    @Test("a transcript segment with out-of-range times or language keeps its text and loses those fields; the stream goes on")
    func hostileTranscriptNumbers() async throws {
        try await RelayHarness.run { h in
            let engagement = await h.simulator.createEngagement()
            let stream = try await h.simulator.startStream(engagementID: engagement).streamID
            try await h.waitForAudio(stream: stream, perChannel: 5)
            func segment(_ text: String, start: Int64, end: Int64, language: Int) -> RawFrame {
                .text(#"{"msg_type":17,"content":{"user_id":0,"user_name":"Sim Caller","channel_id":"2","data":"\#(text)","start_time":\#(start),"end_time":\#(end),"timestamp":\#(start),"language":\#(language)}}"#)
            }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            try await h.simulator.sendRawFrames(engagementID: engagement, [
                segment("huge start", start: 999_999_999_999_999_999, end: -5, language: 12_345),
                segment("end before start", start: now, end: now - 1, language: -2),
                segment("fine", start: now, end: now + 800, language: 9),
            ], signaling: false, media: true)
            try await waitUntil(timeout: .seconds(10), "the three segments") { h.transcripts(stream: stream).contains { $0.text == "fine" } }
            let received = Dictionary(h.transcripts(stream: stream).map { ($0.text, $0) }, uniquingKeysWith: { first, _ in first })
            #expect(received["huge start"] == Transcript(channel: "2", speaker: "Sim Caller", text: "huge start"))
            #expect(received["end before start"] == Transcript(channel: "2", speaker: "Sim Caller", text: "end before start", start: now))
            #expect(received["fine"] == Transcript(channel: "2", speaker: "Sim Caller", text: "fine", start: now, end: now + 800, language: "9"))
            let before = h.audio(stream: stream)["2"]?.count ?? 0
            try await h.waitForAudio(stream: stream, perChannel: before + 10)
            #expect(h.events(.streamFailed).isEmpty && h.events(.streamInterrupted).isEmpty, "\(h.summary())")
        }
    }
}
