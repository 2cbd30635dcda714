import Foundation
import Logging
import RelayCore
import RelayTesting
import Testing
@testable import WAVSink

/// Reading recordings back for the recordings page (`RecordingFolders`), and `retention.days`: real files.
@Suite("Recording folders: the files of a call, read back from stream.json, and retention")
struct RecordingFoldersTests {
    /// Two parties for `frames` frames (the customer silent for frames 10..<30, a gap), then the stop.
    static func record(_ sink: WAVSink, engagement: String, stream: String, frames: Int = 60) async throws {
        let audio = DeterministicAudio()
        var events = [audio.connected(engagement: engagement, stream: stream)]
        for frame in 0..<frames {
            events.append(audio.event(engagement: engagement, stream: stream, channel: "agent-ch", party: 0, frame: frame, userName: "Ada"))
            if !(10..<30).contains(frame) {
                events.append(audio.event(engagement: engagement, stream: stream, channel: "customer-ch", party: 1, frame: frame, userName: "Carl"))
            }
        }
        events.append(stopped(engagement, stream))
        try await sink.consume(events)
    }

    @Test("every stream of an engagement is found with each party's file, duration and gaps, and the stereo mix")
    func readBack() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (sink, _) = makeSink(directory: directory.path, mix: .stereo)
        try await sink.start()
        try await Self.record(sink, engagement: "eng/1", stream: "s1")
        try await Self.record(sink, engagement: "eng/1", stream: "s2")
        try await Self.record(sink, engagement: "eng_1", stream: "s3")
        try await sink.finish()

        let found = sink.audioFiles.recordings(of: "eng/1")
        #expect(found.map(\.streamID) == ["s1", "s2"], "a folder whose safe name collides belongs to the engagement its stream.json names")
        let first = try #require(found.first)
        #expect(first.state == "stopped")
        #expect(first.sampleRate == 16_000)
        #expect(first.channels.map(\.channel) == ["agent-ch", "customer-ch"])
        #expect(first.channels.map(\.userName) == ["Ada", "Carl"])
        #expect(first.channels.allSatisfy { FileManager.default.fileExists(atPath: $0.path) })
        #expect(first.channels.first?.durationMillis == 1_200)
        #expect(first.channels.last?.gaps == [StreamAudio.Gap(atMillis: 200, durationMillis: 400)])
        #expect(first.mixed.map { FileManager.default.fileExists(atPath: $0.path) } == true)
        #expect(sink.audioFiles.recordings(of: "nobody").isEmpty)
    }

    @Test("retention.days deletes recordings last written before the cutoff, never one being written, and logs it")
    func retention() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let logs = LogCapture()
        let options = WAVSinkOptions(directory: directory.path, retention: Retention(days: 7))
        let sink = WAVSink(options: options, context: SinkContext(id: "qa", logger: logs.logger()))
        try await sink.start()
        try await Self.record(sink, engagement: "old", stream: "s1")
        try await Self.record(sink, engagement: "recent", stream: "s1")
        let audio = DeterministicAudio()
        try await sink.consume([audio.connected(engagement: "live", stream: "s1"), audio.event(engagement: "live", stream: "s1", channel: "a", party: 0, frame: 0)])
        for _ in 0..<4 { try await sink.tick() }   // every recording's manifest is written in one of four tick slots
        let folders = RecordingFolders(directory: directory.path)
        func backdate(_ engagement: String) throws {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -10 * 86_400)],
                                                  ofItemAtPath: folders.streamFolder(engagementID: engagement, streamID: "s1") + "/stream.json")
        }
        try backdate("old")
        try backdate("live")
        await sink.sweep(before: try #require(options.retention.cutoff()))
        #expect(folders.recordings(of: "old").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: folders.engagementFolder("old")), "an emptied engagement folder goes too")
        #expect(folders.recordings(of: "recent").count == 1)
        #expect(folders.recordings(of: "live").count == 1, "a recording being written is never deleted")
        #expect(logs.lines(containing: "retention: deleted old recordings").count == 1)
        #expect(logs.lines(containing: "retention: deleted old recordings").first?.contains("streams=1") == true, "\(logs.all)")
        try await sink.finish()

        // Once it is closed and old, the next relay's first tick sweeps it.
        try backdate("live")
        let next = WAVSink(options: options, context: SinkContext(id: "qa", logger: logs.logger()))
        try await next.start()
        try await next.tick()
        #expect(folders.recordings(of: "live").isEmpty)
        #expect(folders.recordings(of: "recent").count == 1)
        #expect(logs.lines(containing: "retention: deleted old recordings").count == 2)
        try await next.finish()
    }
}
