import Foundation
import Logging
import RelayCore
import RelayTesting
import Testing
import JSONLinesSink
import WAVSink
@testable import SQLiteSink
// Replay is the executable's (Sources/rtms-relay/ArchiveReplay.swift); its tests use this module's archive fixtures.
@testable import rtms_relay

@Suite("replay")
struct ArchiveReplayTests {
    var registry: SinkRegistry {
        var registry = SinkRegistry()
        registry.register(WAVSink.self)
        registry.register(SQLiteSink.self)
        return registry
    }

    func configuration(_ yaml: String) throws -> RelayConfiguration {
        try ConfigLoader(registry: registry, environment: [:]).parse(yaml: yaml, file: "test.yaml", environment: [:])
    }

    @Test("replaying an archive with store_audio rebuilds the WAV files and manifests byte for byte")
    func rebuildsWAVsByteIdentically() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let archivePath = dir.path + "/archive.sqlite"
        // The live relay: WAV and archive sinks see the same call.
        let live = WAVSink(options: WAVSinkOptions(directory: dir.path + "/live", mix: .stereo), context: SinkContext(id: "wav", logger: Logger(label: "test")))
        let (archive, _) = makeArchive(path: archivePath, storeAudio: true)
        try await archive.start()
        let calls = recordedCall() + recordedCall(engagement: "eng-2", stream: "stream-2")
        for start in stride(from: 0, to: calls.count, by: 100) {
            let batch = Array(calls[start..<min(start + 100, calls.count)])
            try await live.consume(batch)
            try await archive.consume(batch)
        }
        try await live.finish()
        try await archive.finish()

        let config = try configuration("""
            sinks:
              qa:
                type: wav
                directory: \(dir.path)/rebuilt
                mix: stereo
              archive:
                type: sqlite
                path: \(archivePath)
                store_audio: true
            """)
        let replay = try ArchiveReplay(archive: ArchiveReader(path: archivePath), configuration: config, registry: registry, logger: Logger(label: "test"))
        #expect(replay.targets.map(\.id) == ["qa"])
        #expect(replay.skipped == ["archive"])  // never into the archive being read
        let summary = try await replay.run()
        #expect(summary.events == calls.count)

        let liveFiles = filesUnder(dir.path + "/live")
        #expect(liveFiles.filter { $0.hasSuffix(".wav") }.count == 6)
        #expect(filesUnder(dir.path + "/rebuilt") == liveFiles)
        for file in liveFiles where file.contains(".") {
            let original = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/live/" + file))
            let rebuilt = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/rebuilt/" + file))
            #expect(original == rebuilt, "\(file) differs")
        }
    }

    @Test("replaying one engagement feeds only its events, and an unknown engagement is an error")
    func oneEngagement() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let archivePath = dir.path + "/archive.sqlite"
        let (archive, _) = makeArchive(path: archivePath)
        try await archive.start()
        try await archive.consume(recordedCall() + recordedCall(engagement: "eng-2", stream: "stream-2"))
        try await archive.finish()

        let recorder = RecordingSink()
        let reader = try ArchiveReader(path: archivePath)
        let replay = ArchiveReplay(archive: reader, targets: [.init(id: "rec", sink: recorder, context: SinkContext(id: "rec", logger: Logger(label: "test")))])
        let summary = try await replay.run(engagement: "eng-2")
        #expect(summary.events == 7)
        #expect(recorder.events.allSatisfy { $0.engagementID == "eng-2" })
        #expect(recorder.starts == 1 && recorder.finished)
        await #expect(throws: ArchiveError.self) { try await replay.run(engagement: "nope") }
    }

    @Test("an archive without audio is refused for a WAV sink before anything is written, naming the sink and store_audio")
    func noAudioNoWAVs() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let archivePath = dir.path + "/archive.sqlite"
        let (archive, _) = makeArchive(path: archivePath)   // store_audio: false
        try await archive.start()
        try await archive.consume(recordedCall())
        try await archive.finish()
        let config = try configuration("""
            sinks:
              qa:
                type: wav
                directory: \(dir.path)/rebuilt
            """)
        let replay = try ArchiveReplay(archive: ArchiveReader(path: archivePath), configuration: config, registry: registry, logger: Logger(label: "test"))
        do {
            _ = try await replay.run()
            Issue.record("a replay without audio into a WAV sink was not refused")
        } catch let error as ArchiveError {
            #expect("\(error)".contains("sink 'qa'") && "\(error)".contains("store_audio: true"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/rebuilt"), "nothing may be written before the refusal")
    }

    @Test("a JSON Lines file the relay already wrote is not appended to twice; --duplicates writes again; each sink's share is reported")
    func noDuplicateLines() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let archivePath = dir.path + "/archive.sqlite", linesPath = dir.path + "/events.jsonl"
        // Live: the archive and the JSON Lines sink see the same call, the second engagement only the archive.
        let (archive, _) = makeArchive(path: archivePath)
        let context = SinkContext(id: "log", logger: Logger(label: "test"))
        let lines = try JSONLinesSink(options: JSONLinesSinkOptions(path: linesPath), context: context)
        try await archive.start()
        try await lines.start()
        let first = recordedCall(), second = recordedCall(engagement: "eng-2", stream: "stream-2").map { event -> StreamEvent in
            var event = event
            event.seq += 10_000
            return event
        }
        try await archive.consume(first + second)
        try await lines.consume(lines.interests.filter(first))  // as the hub hands it: no audio
        try await archive.finish()
        try await lines.finish()
        func lineCount() throws -> Int { try String(contentsOfFile: linesPath, encoding: .utf8).split(separator: "\n").count }
        let written = try lineCount()
        let nonAudio = first.count { if case .audio = $0.kind { false } else { true } }
        #expect(written == nonAudio)

        var registry = SinkRegistry()
        registry.register(JSONLinesSink.self)
        let config = try ConfigLoader(registry: registry, environment: [:]).parse(yaml: """
            sinks:
              log:
                type: jsonl
                path: \(linesPath)
            """, file: "test.yaml", environment: [:])
        let summary = try await ArchiveReplay(archive: ArchiveReader(path: archivePath), configuration: config, registry: registry, logger: Logger(label: "test")).run()
        #expect(try lineCount() == written + nonAudio, "only the second engagement's lines are new")
        let share = try #require(summary.written.first)
        #expect(share.sink == "log")
        #expect(share.alreadyHeld == nonAudio)
        #expect(share.events == nonAudio, "the second engagement's events (the archive holds no audio)")
        #expect(share.audioFrames == 0)

        _ = try await ArchiveReplay(archive: ArchiveReader(path: archivePath), configuration: config, registry: registry, logger: Logger(label: "test")).run()
        #expect(try lineCount() == written + nonAudio, "a second replay adds nothing")
        _ = try await ArchiveReplay(archive: ArchiveReader(path: archivePath), configuration: config, registry: registry, logger: Logger(label: "test")).run(duplicates: true)
        #expect(try lineCount() == 3 * nonAudio + nonAudio, "asked for duplicates, every line is written again")
    }

    @Test("a missing archive or an unknown --sink id is reported before anything runs")
    func badInput() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        #expect(throws: ArchiveError.self) { try ArchiveReader(path: dir.path + "/missing.sqlite") }
        let (archive, _) = makeArchive(path: dir.path + "/archive.sqlite")
        try await archive.start()
        try await archive.finish()
        let reader = try ArchiveReader(path: dir.path + "/archive.sqlite")
        let config = try configuration("""
            sinks:
              qa:
                type: wav
                directory: \(dir.path)/qa
              other:
                type: wav
                directory: \(dir.path)/other
            """)
        #expect(throws: ArchiveReplay.UnknownSink.self) {
            try ArchiveReplay(archive: reader, configuration: config, registry: registry, only: ["nope"], logger: Logger(label: "test"))
        }
        let chosen = try ArchiveReplay(archive: reader, configuration: config, registry: registry, only: ["qa"], logger: Logger(label: "test"))
        #expect(chosen.targets.map(\.id) == ["qa"])
        #expect(chosen.skipped == ["other"])
    }
}

/// Every file under `path`, relative to it.
func filesUnder(_ path: String) -> [String] {
    (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? []).sorted()
}
