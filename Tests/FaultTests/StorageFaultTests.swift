import BuiltInSinks
import Foundation
import GRDB
import RelayCore
import RelayTesting
import Testing
import ZoomSimulator

/// Outside CI a machine without mount rights skips the suite (with the reason); in CI (`.ci/run` sets
/// `CI`) that would drop the disk-fault coverage silently, so it is a failure there.
@Suite("Faults: the disk-fault suite runs in CI")
struct StorageFaultsRunInCI {
    @Test("CI can mount the tmpfs the disk-fault tests need")
    func available() {
        guard ProcessInfo.processInfo.environment["CI"] != nil else { return }
        #expect(TinyFilesystem.isAvailable, "CI must run the disk-fault tests: this machine cannot mount a tmpfs (needs root)")
    }
}

/// The WAV and SQLite sinks on a real filesystem that fills up or is read-only (a small tmpfs: the kernel's own
/// ENOSPC and EROFS; `chmod` does not stop root), inside the whole relay while a call streams.
@Suite("Faults: full and read-only disks under the WAV and SQLite sinks", .serialized, .timeLimit(.minutes(3)),
       .enabled(if: TinyFilesystem.isAvailable, "needs root and permission to mount a tmpfs (mount -t tmpfs) to make a real full or read-only disk"))
struct StorageFaultTests {

    static func sinksYAML(_ root: String) -> String {
        """
          recordings: {type: wav, directory: "\(root)/rec"}
          archive: {type: sqlite, path: "\(root)/db/archive.sqlite"}
        """
    }

    /// Fills the filesystem at `path` to the last byte with one file; returns its path.
    static func fill(_ path: String) -> String {
        let filler = path + "/filler-\(UUID().uuidString)"
        let fd = open(filler, O_WRONLY | O_CREAT, 0o644)
        let chunk = [UInt8](repeating: 0x55, count: 64 * 1024)
        var size = chunk.count
        while size > 0 {
            if chunk.withUnsafeBytes({ write(fd, $0.baseAddress, size) }) < 0 { size /= 2 }
        }
        close(fd)
        return filler
    }

    /// Waits until both storage sinks report a trouble containing the given texts; returns the health seen.
    static func waitForTrouble(_ h: RelayHarness, wav: String, sqlite: [String]) async throws -> Health {
        var last: Health?
        try await waitUntil(timeout: .seconds(30), "both storage sinks degraded (last /health: \(String(describing: last)))") {
            let (status, report) = try await h.health()
            last = report
            guard status == 503, report.status == "degraded" else { return false }
            let wavTrouble = report.sinks["recordings"]?.trouble ?? ""
            let sqliteTrouble = report.sinks["archive"]?.trouble ?? ""
            return wavTrouble.contains(wav) && sqlite.contains { sqliteTrouble.localizedCaseInsensitiveContains($0) }
        }
        return try #require(last)
    }

    /// Waits until `/health` is 200 ok with every queue empty.
    static func waitForRecovery(_ h: RelayHarness) async throws {
        var last: Health?
        try await waitUntil(timeout: .seconds(60), "health ok again with empty queues (last: \(String(describing: last)))") {
            let (status, report) = try await h.health()
            last = report
            return status == 200 && report.sinks.values.allSatisfy { $0.depth == 0 && $0.trouble == nil }
        }
    }

    /// Checks the archive holds every non-audio event the recording sink saw, and per-party frame counts equal to
    /// what the simulator sent; checks each party's WAV file is finalised and spans the whole call.
    static func checkStorage(_ h: RelayHarness, root: String, engagement: String, stream: String) async throws {
        let status = try #require(await h.simulator.streamStatus(streamID: stream))
        let expected = Set(h.sink.events.filter { $0.type != .audio && $0.engagementID == engagement }.map { Int64(bitPattern: $0.seq) })
        let database = try DatabaseQueue(path: root + "/db/archive.sqlite", configuration: { var c = Configuration(); c.readonly = true; return c }())
        let archived = try await database.read { db in
            Set(try Int64.fetchAll(db, sql: "SELECT seq FROM events WHERE engagement_id = ?", arguments: [engagement]))
        }
        #expect(expected.subtracting(archived).isEmpty, "\(expected.subtracting(archived).count) of \(expected.count) events missing from the archive")
        let frames = try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT channel, frames FROM audio_channels WHERE stream_id = ?", arguments: [stream])
                .reduce(into: [String: Int]()) { $0[$1["channel"]] = $1["frames"] }
        }
        #expect(frames == status.framesSent, "archive audio statistics \(frames), simulator sent \(status.framesSent)")
        let directory = root + "/rec/" + engagement + "/" + stream
        let wavs = (try? FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".wav") }) ?? []
        #expect(wavs.count == 2, "WAV files in \(directory): \(wavs)")
        for wav in wavs {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/" + wav)))
            func le32(_ offset: Int) -> Int { Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24 }
            #expect(le32(40) == bytes.count - 44 && le32(4) == bytes.count - 8, "\(wav): header not finalised")
            // Every frame period of the call has its slot: audio where it could be written, silence where not.
            let sent = status.framesSent.values.max() ?? 0
            #expect(abs((bytes.count - 44) / 640 - sent) <= 5, "\(wav): \((bytes.count - 44) / 640) frames on disk, \(sent) sent")
        }
    }

    @Test("disk full under a live call: both sinks say 'No space left' / 'full' on /health, ingest and the other sink lose nothing, both catch up when space returns")
    func diskFull() async throws {
        let filesystem = try TinyFilesystem.mount(size: 24 << 20).get()
        defer { filesystem.unmount() }
        try await RelayHarness.run(sinks: BuiltInSinks.registry, sinksYAML: Self.sinksYAML(filesystem.path)) { h in
            let calls = try await h.startCalls(1, framesEach: 50)
            let (engagement, stream) = calls[0]
            let filler = Self.fill(filesystem.path)
            let troubled = try await Self.waitForTrouble(h, wav: "No space left on device", sqlite: ["full"])
            #expect(troubled.streams == 1)
            // Full for a few seconds, while audio and transcripts keep coming.
            let before = h.audio(stream: stream)["1"]?.count ?? 0
            try await h.waitForAudio(stream: stream, perChannel: before + 150)
            #expect(try await h.health().report.sinks["recording"]?.trouble == nil)
            try FileManager.default.removeItem(atPath: filler)
            try await Self.waitForRecovery(h)
            try await h.waitForAudio(stream: stream, perChannel: (h.audio(stream: stream)["1"]?.count ?? 0) + 50)
            let problems = try await h.stopCallsAndCheckAudio(calls)
            #expect(problems.isEmpty, "\(problems)")
            try await Self.waitForRecovery(h)
            try await Self.checkStorage(h, root: filesystem.path, engagement: engagement, stream: stream)
            let logged = h.logs.lines(containing: "No space left on device")
            #expect(!logged.isEmpty, "no log line names the full disk")
        }
    }

    @Test("read-only disk when the relay starts: both sinks say so on /health, the queues hold the call, everything lands once it is writable")
    func readOnly() async throws {
        let filesystem = try TinyFilesystem.mount(size: 24 << 20).get()
        defer { filesystem.unmount() }
        #expect(filesystem.remount(readOnly: true))
        try await RelayHarness.run(sinks: BuiltInSinks.registry, sinksYAML: Self.sinksYAML(filesystem.path)) { h in
            let calls = try await h.startCalls(1, framesEach: 50)
            let (engagement, stream) = calls[0]
            _ = try await Self.waitForTrouble(h, wav: "Read-only file system", sqlite: ["read-only", "readonly"])
            let before = h.audio(stream: stream)["1"]?.count ?? 0
            try await h.waitForAudio(stream: stream, perChannel: before + 100)
            #expect(try await h.health().report.sinks["recording"]?.trouble == nil)
            #expect(filesystem.remount(readOnly: false))
            try await Self.waitForRecovery(h)
            let problems = try await h.stopCallsAndCheckAudio(calls)
            #expect(problems.isEmpty, "\(problems)")
            try await Self.waitForRecovery(h)
            try await Self.checkStorage(h, root: filesystem.path, engagement: engagement, stream: stream)
        }
    }
}
