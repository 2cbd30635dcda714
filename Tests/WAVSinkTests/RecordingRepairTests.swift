import Foundation
import RelayTesting
import Testing
@testable import WAVSink

/// The start-up repair on real files: a recording written by the sink and left as a crash leaves it (manifest
/// still `recording`), then damaged the way a SIGKILL between header patches does.
@Suite("WAV sink: repair after a crash")
struct RecordingRepairTests {
    let audio = DeterministicAudio()

    /// Records `frames` frames of two parties and stops without closing (the sink is dropped, as by a crash).
    func crashedRecording(in directory: String, frames: Int = 50) async throws -> String {
        let (sink, _) = makeSink(directory: directory)
        try await sink.start()
        try await sink.consume([audio.connected(engagement: "e1", stream: "s1")])
        for frame in 0..<frames {
            try await sink.consume([
                audio.event(engagement: "e1", stream: "s1", channel: "agent", party: 0, frame: frame),
                audio.event(engagement: "e1", stream: "s1", channel: "customer", party: 1, frame: frame),
            ])
        }
        for _ in 0..<4 { try await sink.tick() }
        return directory + "/e1/s1"
    }

    func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// Rewrites the two size fields of a WAV header (data size `data`, RIFF size 36 + `data`).
    func setDeclaredData(_ path: String, to data: Int) throws {
        var file = try bytes(path)
        let parsed = try WAVHeader.parse(file)
        let encoded = WAVHeader(sampleRate: parsed.sampleRate, channels: parsed.channels, dataBytes: data).encoded()
        file.replaceSubrange(0..<44, with: encoded)
        try Data(file).write(to: URL(fileURLWithPath: path))
    }

    func manifest(_ folder: String) throws -> StreamManifest {
        try StreamManifest.decode(Data(contentsOf: URL(fileURLWithPath: folder + "/stream.json")))
    }

    @Test("lagging headers (data 0, too small, a torn trailing sample) are set to the whole samples on disk; samples untouched; the manifest is closed")
    func repairsLaggingHeaders() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let folder = try await crashedRecording(in: dir.path)
        #expect(try manifest(folder).state == "recording")
        let agent = folder + "/agent.wav", customer = folder + "/customer.wav"
        // Samples that reached the disk after the last patch, plus half a sample a crash tore.
        let extra: [UInt8] = [1, 2, 3, 4, 5]
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: agent))
        try handle.seekToEnd()
        try handle.write(contentsOf: extra)
        try handle.close()
        try setDeclaredData(agent, to: 0)
        try setDeclaredData(customer, to: 640)
        let agentBefore = try bytes(agent), customerBefore = try bytes(customer)

        let report = RecordingRepair.run(directory: dir.path)

        #expect(report.scannedFiles == 2)
        #expect(report.problems.isEmpty, "\(report.problems)")
        #expect(report.repaired.map(\.path) == [agent, customer])
        for (path, before) in [(agent, agentBefore), (customer, customerBefore)] {
            let after = try bytes(path)
            let wav = try WAVContents(path: path)
            let whole = (before.count - 44) / 2 * 2
            #expect(wav.header.dataBytes == whole && wav.header.riffSize == whole + 36)
            #expect(after.count == 44 + whole, "\(path): the torn half sample is cut off, whole samples kept")
            #expect(Array(after[44...]) == Array(before[44..<(44 + whole)]), "\(path): sample data changed")
            #expect(Array(after[8..<40]) == Array(before[8..<40]), "\(path): only the size fields change")
        }
        let agentRepair = try #require(report.repaired.first)
        #expect(agentRepair.dataBytesBefore == 0 && agentRepair.dataBytesAfter == agentBefore.count - 44 - 1)
        #expect(agentRepair.fileBytesBefore == agentBefore.count && agentRepair.fileBytesAfter == agentBefore.count - 1)
        #expect(Array(try bytes(agent).suffix(4)) == [1, 2, 3, 4], "the whole samples appended after the last patch are kept")
        // 50 frames of 20 ms, plus the two whole samples appended to the agent's file.
        #expect(try WAVContents(path: customer).data == (0..<50).flatMap { audio.frameBytes(party: 1, frame: $0) })

        let closed = try manifest(folder)
        #expect(report.closedManifests == [folder + "/stream.json"])
        #expect(closed.state == "interrupted" && closed.stopMessage == "interrupted by restart")
        #expect(closed.channels.first { $0.channel == "customer" }?.durationMs == 1000)
        #expect(closed.channels.first { $0.channel == "agent" }?.durationMs == Int64(agentRepair.dataBytesAfter / 2) * 1000 / 16_000)

        // A second run finds nothing to do.
        let again = RecordingRepair.run(directory: dir.path)
        #expect(again.repaired.isEmpty && again.closedManifests.isEmpty && again.scannedFiles == 2)
    }

    @Test("a file that is not a WAV the sink wrote is reported and left alone; a dry run changes nothing")
    func leavesOthersAlone() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let folder = try await crashedRecording(in: dir.path, frames: 10)
        let notes = folder + "/notes.wav"
        let garbage = Array("RIFX this is not audio at all, just text in a .wav file".utf8)
        try Data(garbage).write(to: URL(fileURLWithPath: notes))
        try setDeclaredData(folder + "/agent.wav", to: 0)
        let before = try filesUnder(dir.path).filter { $0.contains(".") }.map { try bytes(dir.path + "/" + $0) }

        let dry = RecordingRepair.run(directory: dir.path, dryRun: true)
        #expect(dry.repaired.map(\.path) == [folder + "/agent.wav"])
        #expect(dry.closedManifests == [folder + "/stream.json"])
        #expect(try filesUnder(dir.path).filter { $0.contains(".") }.map { try bytes(dir.path + "/" + $0) } == before, "a dry run wrote")

        let report = RecordingRepair.run(directory: dir.path)
        #expect(report.problems.map(\.path) == [notes])
        #expect(report.problems.first?.reason.contains("not a RIFF/WAVE file") == true)
        #expect(try bytes(notes) == garbage)
        #expect(report.repaired.map(\.path) == [folder + "/agent.wav"])
        #expect(RecordingRepair.run(directory: dir.path + "/missing") == RecordingRepair.Report())
    }

    @Test("the sink repairs its directory on its first start only, never after a restart")
    func sinkRepairsOnFirstStart() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let folder = try await crashedRecording(in: dir.path, frames: 10)
        try setDeclaredData(folder + "/customer.wav", to: 0)
        let (sink, _) = makeSink(directory: dir.path)
        try await sink.start()
        let wav = try WAVContents(path: folder + "/customer.wav")
        #expect(wav.header.dataBytes == wav.fileSize - 44 && wav.header.dataBytes > 0)
        #expect(try manifest(folder).state == "interrupted")
        // A restart after a sink error must not touch files: they may be open.
        try setDeclaredData(folder + "/customer.wav", to: 0)
        try await sink.start()
        #expect(try WAVContents(path: folder + "/customer.wav").header.dataBytes == 0)
    }
}
