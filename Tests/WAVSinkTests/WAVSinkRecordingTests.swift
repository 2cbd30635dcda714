import Foundation
import RelayCore
import RelayTesting
import Testing
@testable import WAVSink

@Suite("WAV sink: recordings")
struct WAVSinkRecordingTests {
    let audio = DeterministicAudio()

    @Test("each party's file holds its PCM byte for byte, with silence where the party sent nothing")
    func byteExactWithGap() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (sink, _) = makeSink(directory: dir.path)
        var events = [audio.connected(engagement: "e1", stream: "s1")]
        for frame in 0..<100 {
            events.append(audio.event(engagement: "e1", stream: "s1", channel: "agent", party: 0, frame: frame))
            if !(30..<60).contains(frame) {  // the customer is muted for 600 ms
                events.append(audio.event(engagement: "e1", stream: "s1", channel: "customer", party: 1, frame: frame))
            }
        }
        // In batches of 37, as the hub would hand them over.
        for start in stride(from: 0, to: events.count, by: 37) {
            try await sink.consume(Array(events[start..<min(start + 37, events.count)]))
        }
        try await sink.consume([stopped("e1", "s1")])

        let agent = try WAVContents(path: dir.path + "/e1/s1/agent.wav")
        let customer = try WAVContents(path: dir.path + "/e1/s1/customer.wav")
        #expect(agent.header.sampleRate == 16_000 && agent.header.channels == 1 && agent.header.bitsPerSample == 16)
        #expect(agent.data == (0..<100).flatMap { audio.frameBytes(party: 0, frame: $0) })
        let expected = (0..<30).flatMap { audio.frameBytes(party: 1, frame: $0) }
            + silence(frames: 30, audio: audio)
            + (60..<100).flatMap { audio.frameBytes(party: 1, frame: $0) }
        #expect(customer.data.count == expected.count)
        #expect(customer.data == expected)
    }

    @Test("a party who joins late starts with silence, so every file of a stream shares one clock")
    func lateJoinerStartsWithSilence() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (sink, _) = makeSink(directory: dir.path)
        var events: [StreamEvent] = []
        for frame in 0..<20 {
            events.append(audio.event(engagement: "e1", stream: "s1", channel: "agent", party: 0, frame: frame))
            if frame >= 5 { events.append(audio.event(engagement: "e1", stream: "s1", channel: "customer", party: 1, frame: frame)) }
        }
        try await sink.consume(events)
        try await sink.consume([stopped("e1", "s1")])
        let customer = try WAVContents(path: dir.path + "/e1/s1/customer.wav")
        #expect(customer.data == silence(frames: 5, audio: audio) + (5..<20).flatMap { audio.frameBytes(party: 1, frame: $0) })
    }

    @Test("a late frame is written into its slot and a duplicate frame is dropped")
    func lateAndDuplicateFrames() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (sink, _) = makeSink(directory: dir.path)
        let order = [0, 1, 3, 4, 2, 2, 4, 5]
        try await sink.consume(order.map { audio.event(engagement: "e1", stream: "s1", channel: "agent", party: 0, frame: $0) })
        // Frame 1 again, in a later batch (already on disk).
        try await sink.consume([audio.event(engagement: "e1", stream: "s1", channel: "agent", party: 0, frame: 1)])
        try await sink.consume([stopped("e1", "s1")])
        let agent = try WAVContents(path: dir.path + "/e1/s1/agent.wav")
        #expect(agent.data == (0..<6).flatMap { audio.frameBytes(party: 0, frame: $0) })
        let manifest = try manifestJSON(dir.path + "/e1/s1/stream.json")
        let channel = try #require((manifest["channels"] as? [[String: Any]])?.first)
        let statistics = try #require(channel["statistics"] as? [String: Any])
        #expect(statistics["late_frames"] as? Int == 1)
        #expect(statistics["duplicate_frames"] as? Int == 3)
    }

    @Test("a late frame that arrives after its silence was written to disk still lands in its slot")
    func lateFrameAfterFlush() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (sink, _) = makeSink(directory: dir.path)
        try await sink.consume([0, 1, 3].map { audio.event(engagement: "e1", stream: "s1", channel: "agent", party: 0, frame: $0) })
        try await sink.consume([audio.event(engagement: "e1", stream: "s1", channel: "agent", party: 0, frame: 2)])
        try await sink.consume([stopped("e1", "s1")])
        let agent = try WAVContents(path: dir.path + "/e1/s1/agent.wav")
        #expect(agent.data == (0..<4).flatMap { audio.frameBytes(party: 0, frame: $0) })
    }

    @Test("timestamp jitter within half a frame never inserts silence")
    func jitterIsContiguous() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (sink, _) = makeSink(directory: dir.path)
        let jitter: [Int64] = [0, 3, -4, 7, -9, 2, 9, 0]
        try await sink.consume(jitter.enumerated().map { audio.event(engagement: "e1", stream: "s1", channel: "agent", party: 0, frame: $0.offset, timestampOffset: $0.element) })
        try await sink.consume([stopped("e1", "s1")])
        let agent = try WAVContents(path: dir.path + "/e1/s1/agent.wav")
        #expect(agent.data == (0..<8).flatMap { audio.frameBytes(party: 0, frame: $0) })
    }

    @Test("mixed.wav puts the first party left and the second right, aligned by timestamp")
    func stereoMix() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (sink, _) = makeSink(directory: dir.path, mix: .stereo)
        var events: [StreamEvent] = []
        for frame in 0..<150 {  // 3 s: longer than the mixer's window, so parts are written mid-stream
            events.append(audio.event(engagement: "e1", stream: "s1", channel: "agent", party: 0, frame: frame))
            if frame >= 10 && !(50..<120).contains(frame) {
                events.append(audio.event(engagement: "e1", stream: "s1", channel: "customer", party: 1, frame: frame))
            }
        }
        for start in stride(from: 0, to: events.count, by: 16) {
            try await sink.consume(Array(events[start..<min(start + 16, events.count)]))
        }
        try await sink.consume([stopped("e1", "s1")])
        let mixed = try WAVContents(path: dir.path + "/e1/s1/mixed.wav")
        #expect(mixed.header.channels == 2 && mixed.header.sampleRate == 16_000)
        let expected = audio.stereoMix(0..<150, left: { _ in true }, right: { $0 >= 10 && !(50..<120).contains($0) })
        #expect(mixed.data.count == expected.count)
        #expect(mixed.data == expected)
    }

    @Test("the RIFF header is correct after close")
    func headerAfterClose() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (sink, _) = makeSink(directory: dir.path, mix: .stereo)
        try await sink.consume((0..<77).map { audio.event(engagement: "e1", stream: "s1", channel: "agent", party: 0, frame: $0) })
        try await sink.finish()
        for file in ["agent.wav", "mixed.wav"] {
            let wav = try WAVContents(path: dir.path + "/e1/s1/" + file)
            #expect(wav.header.dataOffset == 44)
            #expect(wav.header.riffSize == wav.fileSize - 8)
            #expect(wav.header.dataBytes == wav.fileSize - 44)
            #expect(wav.header.dataBytes == 77 * audio.samplesPerFrame * 2 * wav.header.channels)
        }
    }

    @Test("the header is patched once a second (one of four quarter-second ticks) while recording")
    func headerPatchedOnTick() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (sink, _) = makeSink(directory: dir.path)
        try await sink.consume((0..<50).map { audio.event(engagement: "e1", stream: "s1", channel: "agent", party: 0, frame: $0) })
        // The header after each of four ticks: it changes on exactly one of them (the stream's slot), not on every
        // tick or write.
        var headers = [try WAVContents(path: dir.path + "/e1/s1/agent.wav").header.dataBytes]
        for _ in 0..<4 {
            try await sink.tick()
            headers.append(try WAVContents(path: dir.path + "/e1/s1/agent.wav").header.dataBytes)
        }
        #expect(zip(headers, headers.dropFirst()).filter { $0 != $1 }.count == 1, "header data sizes after each tick: \(headers)")
        let wav = try WAVContents(path: dir.path + "/e1/s1/agent.wav")
        #expect(wav.header.dataBytes == 50 * audio.samplesPerFrame * 2)
        #expect(wav.header.riffSize == wav.fileSize - 8)
    }

    @Test("stream.json records ids, channels, start and stop, frames, gaps and the stop reason")
    func manifest() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (sink, _) = makeSink(directory: dir.path, mix: .stereo)
        var events = [audio.connected(engagement: "e1", stream: "s1")]
        for frame in 0..<50 where !(10..<20).contains(frame) {
            events.append(audio.event(engagement: "e1", stream: "s1", channel: "agent", party: 0, frame: frame, userName: "Ada"))
        }
        events.append(stopped("e1", "s1", code: 6, name: "STOP_BC_ALL_APPS_DISABLED", at: audio.origin + 5_000))
        try await sink.consume(events)
        let manifest = try manifestJSON(dir.path + "/e1/s1/stream.json")
        #expect(manifest["engagement_id"] as? String == "e1")
        #expect(manifest["stream_id"] as? String == "s1")
        #expect(manifest["state"] as? String == "stopped")
        #expect(manifest["origin_timestamp"] as? Int == Int(audio.origin))
        #expect(manifest["started_at"] as? String == EventClock.iso8601(millis: audio.origin))
        #expect(manifest["stopped_at"] as? String == EventClock.iso8601(millis: audio.origin + 5_000))
        let reason = try #require(manifest["stop_reason"] as? [String: Any])
        #expect(reason["code"] as? Int == 6 && reason["name"] as? String == "STOP_BC_ALL_APPS_DISABLED")
        let channel = try #require((manifest["channels"] as? [[String: Any]])?.first)
        #expect(channel["channel"] as? String == "agent" && channel["user_name"] as? String == "Ada" && channel["file"] as? String == "agent.wav")
        #expect(channel["duration_ms"] as? Int == 1000)
        let statistics = try #require(channel["statistics"] as? [String: Any])
        #expect(statistics["frames"] as? Int == 40)
        #expect(statistics["gap_count"] as? Int == 1)
        let gaps = try #require(statistics["gaps"] as? [[String: Any]])
        #expect(gaps.first?["at_ms"] as? Int == 200 && gaps.first?["duration_ms"] as? Int == 200)
        #expect((manifest["mixed"] as? [String: Any])?["left"] as? String == "agent")
    }

    @Test("frames after a stream stopped never reopen or overwrite its files")
    func noReopenAfterStop() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (sink, _) = makeSink(directory: dir.path)
        try await sink.consume((0..<10).map { audio.event(engagement: "e1", stream: "s1", channel: "agent", party: 0, frame: $0) } + [stopped("e1", "s1")])
        try await sink.consume([audio.event(engagement: "e1", stream: "s1", channel: "agent", party: 0, frame: 10)])
        try await sink.finish()
        let agent = try WAVContents(path: dir.path + "/e1/s1/agent.wav")
        #expect(agent.data == (0..<10).flatMap { audio.frameBytes(party: 0, frame: $0) })
        #expect(filesUnder(dir.path + "/e1") == ["s1", "s1/agent.wav", "s1/stream.json"])
    }
}

func manifestJSON(_ path: String) throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}
