import Foundation
import RelayCore
import RelayTesting
import Testing
@testable import WAVSink

@Suite("WAV sink: hostile ids and disk trouble", .serialized)
struct WAVSinkSafetyTests {
    let audio = DeterministicAudio()

    @Test("ids from Zoom cannot escape the recordings directory", arguments: [
        ("../../etc", "../passwd", "../../../evil"),
        ("/absolute", "/tmp/x", "/root/.ssh/authorized_keys"),
        ("..", ".", ".."),
        ("e\u{0}1", "s/../../1", "mixed"),
    ])
    func pathTraversal(ids: (String, String, String)) async throws {
        let parent = try TemporaryDirectory()
        defer { parent.remove() }
        // Three levels below `parent`, so an id that climbs out of the recordings (up to three `..`) would still
        // land under `parent`, where the check below sees it.
        let recordings = parent.path + "/a/b/recordings"
        let (sink, _) = makeSink(directory: recordings, mix: .stereo)
        try await sink.consume((0..<5).map { audio.event(engagement: ids.0, stream: ids.1, channel: ids.2, party: 0, frame: $0) })
        try await sink.finish()
        let escaped = filesUnder(parent.path).filter { !["a", "a/b"].contains($0) && !$0.hasPrefix("a/b/recordings") }
        #expect(escaped.isEmpty, "written outside the recordings: \(escaped)")
        let everything = filesUnder(recordings)
        // The engagement's folder, the stream's folder, and in it the party, mixed.wav and stream.json: nothing else.
        #expect(everything.count == 5, "\(everything)")
        #expect(everything.filter { $0.hasSuffix("/stream.json") }.count == 1)
        let files = everything.filter { $0.hasSuffix(".wav") }
        #expect(files.count == 2)  // the party and mixed.wav, in one folder two levels down
        for file in files {
            #expect(file.split(separator: "/").count == 3)
            #expect(!file.split(separator: "/").contains { $0.hasPrefix(".") })
        }
        #expect(Set(files.map { ($0 as NSString).lastPathComponent }).count == 2)
    }

    @Test("file names from ids are stable, readable and distinct")
    func safeNames() {
        #expect(SafeFileName.make("MKPkJgHkSNamQ_wnkBbUCQ") == "MKPkJgHkSNamQ_wnkBbUCQ")
        #expect(SafeFileName.make("a/b") != SafeFileName.make("a_b"))
        #expect(SafeFileName.make("a/b").hasPrefix("a_b-"))
        #expect(SafeFileName.make("..").hasPrefix("_.-"))
        #expect(!SafeFileName.make(".hidden").hasPrefix("."))
        #expect(SafeFileName.make("").count == 8)
        #expect(SafeFileName.make("mixed", reserved: ["mixed"]) != "mixed")
        #expect(SafeFileName.make(String(repeating: "x", count: 500)).count < 120)
    }

    @Test("a full disk is reported on health without naming the call's files, the stream goes on, and recording resumes when there is room")
    func diskFull() async throws {
        let filesystem = try TinyFilesystem.mount(size: 256 * 1024).get()
        defer { filesystem.unmount() }
        // Leave about 40 KB free: a bit over a second of 16 kHz audio.
        let filler = filesystem.path + "/filler"
        _ = FileManager.default.createFile(atPath: filler, contents: Data(count: 256 * 1024 - 40 * 1024))
        let (sink, context) = makeSink(directory: filesystem.path + "/rec")
        for second in 0..<3 {  // 3 s of audio, more than fits
            try await sink.consume((second * 50..<(second + 1) * 50).map { audio.event(engagement: "e1", stream: "s1", channel: "agent", party: 0, frame: $0) })
        }
        guard case .degraded(let reason) = context.health else {
            Issue.record("health stayed ok on a full disk")
            return
        }
        #expect(reason.contains("No space left on device"))
        // security #10: /health is open, so it names the folder, never a file (its path holds engagement and
        // stream ids); the log names the file.
        #expect(reason.contains("in \(filesystem.path)/rec:"), "\(reason)")
        #expect(!reason.contains("/e1/") && !reason.contains("agent.wav"), "\(reason)")

        try FileManager.default.removeItem(atPath: filler)
        try await Task.sleep(for: DiskRetry.interval + .milliseconds(100))
        try await sink.consume((150..<200).map { audio.event(engagement: "e1", stream: "s1", channel: "agent", party: 0, frame: $0) })
        #expect(context.health == .ok)
        try await sink.consume([stopped("e1", "s1")])

        let agent = try WAVContents(path: filesystem.path + "/rec/e1/s1/agent.wav")
        #expect(agent.header.riffSize == agent.fileSize - 8)
        #expect(agent.data.count == 200 * audio.samplesPerFrame * 2)
        // What was written before the disk filled is intact, the rest of those seconds is silence (or the
        // audio that fit), and the audio after recovery is in its wall-clock place.
        let frameSize = audio.samplesPerFrame * 2
        #expect(Array(agent.data[0..<frameSize]) == audio.frameBytes(party: 0, frame: 0))
        #expect(Array(agent.data[150 * frameSize..<200 * frameSize]) == (150..<200).flatMap { audio.frameBytes(party: 0, frame: $0) })
        // A write cut short by the full disk may leave part of a frame: sample by sample, audio or silence.
        let expected = (0..<150).flatMap { audio.frameBytes(party: 0, frame: $0) }
        var wrong: [Int] = []
        for i in stride(from: 0, to: 150 * frameSize, by: 2) {
            let sample = (agent.data[i], agent.data[i + 1])
            let isAudio = sample == (expected[i], expected[i + 1])
            let isSilence = sample == (0, 0)
            if !isAudio && !isSilence { wrong.append(i) }
        }
        #expect(wrong.isEmpty, "\(wrong.count) samples are neither their audio nor silence, first at byte \(wrong.first ?? 0)")
        #expect(agent.data[0..<150 * frameSize].contains { $0 != 0 } && agent.data[0..<150 * frameSize].contains(0))
        let manifest = try manifestJSON(filesystem.path + "/rec/e1/s1/stream.json")
        let statistics = try #require((manifest["channels"] as? [[String: Any]])?.first?["statistics"] as? [String: Any])
        #expect((statistics["dropped_frames"] as? Int ?? 0) > 0)
    }

    @Test("a read-only filesystem is reported on health and recording starts once it is writable")
    func readOnly() async throws {
        let filesystem = try TinyFilesystem.mount(size: 1024 * 1024).get()
        defer { filesystem.unmount() }
        #expect(filesystem.remount(readOnly: true))
        let (sink, context) = makeSink(directory: filesystem.path + "/rec")
        try await sink.consume((0..<50).map { audio.event(engagement: "e1", stream: "s1", channel: "agent", party: 0, frame: $0) })
        guard case .degraded(let reason) = context.health else {
            Issue.record("health stayed ok on a read-only filesystem")
            return
        }
        #expect(reason.contains("Read-only file system"))

        #expect(filesystem.remount(readOnly: false))
        try await Task.sleep(for: DiskRetry.interval + .milliseconds(100))
        try await sink.consume((50..<100).map { audio.event(engagement: "e1", stream: "s1", channel: "agent", party: 0, frame: $0) })
        #expect(context.health == .ok)
        try await sink.finish()
        let agent = try WAVContents(path: filesystem.path + "/rec/e1/s1/agent.wav")
        #expect(agent.data == silence(frames: 50, audio: audio) + (50..<100).flatMap { audio.frameBytes(party: 0, frame: $0) })
    }
}
