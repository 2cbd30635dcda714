import Foundation
import RelayCore
import RelayTesting
import Testing
@testable import WAVSink

/// A stream whose audio reaches the sink in a later run of the relay than the one that opened its files: the events
/// a full queue spilled to disk before a shutdown or a crash, delivered by the next `serve`.
@Suite("WAV sink: a recording continued by the next run")
struct WAVSinkResumeTests {
    let audio = DeterministicAudio()

    /// Frames `range` of both parties (the customer muted over `muted`), in batches of 16 as the hub hands them over.
    func consume(_ sink: WAVSink, _ range: Range<Int>, muted: Range<Int> = 0..<0) async throws {
        var events: [StreamEvent] = []
        for frame in range {
            events.append(audio.event(engagement: "e1", stream: "s1", channel: "agent", party: 0, frame: frame, userName: "Ann"))
            if !muted.contains(frame) { events.append(audio.event(engagement: "e1", stream: "s1", channel: "customer", party: 1, frame: frame)) }
        }
        for start in stride(from: 0, to: events.count, by: 16) {
            try await sink.consume(Array(events[start..<min(start + 16, events.count)]))
        }
    }

    @Test("after a shutdown, the next run's audio of the stream continues the same files byte for byte on the same clock, the mix too")
    func continuedAfterShutdown() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (first, _) = makeSink(directory: dir.path, mix: .stereo)
        try await first.start()
        try await first.consume([audio.connected(engagement: "e1", stream: "s1")])
        try await consume(first, 0..<100, muted: 30..<60)
        try await first.finish()
        let before = try manifestJSON(dir.path + "/e1/s1/stream.json")
        #expect(before["state"] as? String == "closed")

        // The next run: 10 frames (200 ms) never arrive, then the stream goes on until Zoom stops it.
        let (second, _) = makeSink(directory: dir.path, mix: .stereo)
        try await second.start()
        try await consume(second, 110..<160)
        try await second.consume([stopped("e1", "s1")])

        #expect(filesUnder(dir.path) == ["e1", "e1/s1", "e1/s1/agent.wav", "e1/s1/customer.wav", "e1/s1/mixed.wav", "e1/s1/stream.json"])
        let sent = { (frame: Int) in !(100..<110).contains(frame) }
        let agent = try WAVContents(path: dir.path + "/e1/s1/agent.wav")
        #expect(agent.fileSize == 44 + agent.header.dataBytes)
        #expect(agent.data == (0..<160).flatMap { sent($0) ? audio.frameBytes(party: 0, frame: $0) : silence(frames: 1, audio: audio) })
        let customer = try WAVContents(path: dir.path + "/e1/s1/customer.wav")
        let customerSent = { (frame: Int) in sent(frame) && !(30..<60).contains(frame) }
        #expect(customer.data == (0..<160).flatMap { customerSent($0) ? audio.frameBytes(party: 1, frame: $0) : silence(frames: 1, audio: audio) })
        let mix = try WAVContents(path: dir.path + "/e1/s1/mixed.wav")
        #expect(mix.data == audio.stereoMix(0..<160, left: sent, right: customerSent))

        let after = try manifestJSON(dir.path + "/e1/s1/stream.json")
        #expect(after["state"] as? String == "stopped")
        #expect(after["started_at"] as? String == before["started_at"] as? String)
        #expect(after["origin_timestamp"] as? Int64 == audio.origin)
        let channels = try #require(after["channels"] as? [[String: Any]])
        #expect(channels.map { $0["channel"] as? String } == ["agent", "customer"])
        #expect(channels.first?["user_name"] as? String == "Ann")
        #expect(channels.map { $0["duration_ms"] as? Int } == [3_200, 3_200])
        let statistics = try #require(channels.first?["statistics"] as? [String: Any])
        #expect(statistics["frames"] as? Int == 150)
        #expect(statistics["gap_count"] as? Int == 1 && statistics["silence_ms"] as? Int == 200)
        let customerStatistics = try #require(channels.last?["statistics"] as? [String: Any])
        #expect(customerStatistics["frames"] as? Int == 120 && customerStatistics["gap_count"] as? Int == 2)
    }

    @Test("after a crash, the repaired files are continued: what reached the disk, silence for what did not, then the rest")
    func continuedAfterCrash() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do {
            // Killed: ticked (every recording once a second: headers and stream.json) only early on, never finished,
            // so headers lag and the last samples never left memory.
            let (first, _) = makeSink(directory: dir.path)
            try await first.start()
            try await consume(first, 0..<40)
            for _ in 0..<4 { try await first.tick() }
            try await consume(first, 40..<100)
        }
        let (second, _) = makeSink(directory: dir.path)
        try await second.start()
        let repaired = try WAVContents(path: dir.path + "/e1/s1/agent.wav")
        let kept = repaired.header.dataBytes / (audio.samplesPerFrame * 2)
        #expect(repaired.fileSize == 44 + repaired.header.dataBytes)
        // Samples are written every half second of a party (25 frames).
        #expect(kept >= 75 && kept <= 100, "\(kept) frames reached the disk")
        #expect(try manifestJSON(dir.path + "/e1/s1/stream.json")["state"] as? String == "interrupted")

        try await consume(second, 100..<150)
        try await second.consume([stopped("e1", "s1")])
        let agent = try WAVContents(path: dir.path + "/e1/s1/agent.wav")
        #expect(agent.data == (0..<kept).flatMap { audio.frameBytes(party: 0, frame: $0) }
            + silence(frames: 100 - kept, audio: audio) + (100..<150).flatMap { audio.frameBytes(party: 0, frame: $0) })
        #expect(!filesUnder(dir.path).contains { $0.hasPrefix("e1/s1.") })
        #expect(try manifestJSON(dir.path + "/e1/s1/stream.json")["state"] as? String == "stopped")
    }

    @Test("a recording Zoom stopped, or one whose manifest names a file outside its folder, is moved aside, never continued or followed")
    func notContinued() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (first, _) = makeSink(directory: dir.path)
        try await consume(first, 0..<50)
        try await first.consume([stopped("e1", "s1")])
        let (second, _) = makeSink(directory: dir.path)
        try await consume(second, 50..<60)
        try await second.finish()
        // The stopped recording is kept whole beside the new one.
        #expect(try WAVContents(path: dir.path + "/e1/s1.1/agent.wav").data == (0..<50).flatMap { audio.frameBytes(party: 0, frame: $0) })
        #expect(try WAVContents(path: dir.path + "/e1/s1/agent.wav").data == (50..<60).flatMap { audio.frameBytes(party: 0, frame: $0) })

        // A hand-edited manifest (state closed) naming a file elsewhere: nothing outside the folder is opened.
        let outside = dir.path + "/outside.wav"
        try FileManager.default.copyItem(atPath: dir.path + "/e1/s1/agent.wav", toPath: outside)
        let original = try Data(contentsOf: URL(fileURLWithPath: outside))
        let manifestPath = dir.path + "/e1/s1/stream.json"
        let edited = try String(contentsOfFile: manifestPath, encoding: .utf8).replacingOccurrences(of: "\"agent.wav\"", with: "\"..\\/..\\/outside.wav\"")
        try edited.write(toFile: manifestPath, atomically: true, encoding: .utf8)
        #expect(edited.contains("outside.wav"))
        let (third, _) = makeSink(directory: dir.path)
        try await consume(third, 60..<70)
        try await third.finish()
        #expect(try Data(contentsOf: URL(fileURLWithPath: outside)) == original)
        #expect(FileManager.default.fileExists(atPath: dir.path + "/e1/s1.2/stream.json"))
        #expect(try WAVContents(path: dir.path + "/e1/s1/agent.wav").data == (60..<70).flatMap { audio.frameBytes(party: 0, frame: $0) })
    }
}
