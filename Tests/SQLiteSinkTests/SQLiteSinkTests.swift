import Foundation
import GRDB
import NIOCore
import RelayCore
import RelayTesting
import Testing
@testable import SQLiteSink

@Suite("SQLite sink")
struct SQLiteSinkTests {
    @Test("the archive after a call holds its engagement, stream, events, transcript and per-party audio statistics")
    func archiveAfterACall() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/archive.sqlite"
        let (sink, context) = makeArchive(path: path)
        try await sink.start()
        let call = recordedCall()
        for start in stride(from: 0, to: call.count, by: 64) {
            try await sink.consume(Array(call[start..<min(start + 64, call.count)]))
        }
        try await sink.finish()
        #expect(context.health == .ok)

        let db = try DatabaseQueue(path: path)
        try await db.read { db in
            let engagement = try #require(try Row.fetchOne(db, sql: "SELECT * FROM engagements"))
            #expect(text(engagement, "engagement_id") == "eng-1")
            #expect(number(engagement, "started_ms") == 1_763_999_997_000)
            #expect(number(engagement, "ended_ms") == 1_764_000_002_500)
            #expect(text(engagement, "start_payload")?.contains("support") == true)

            let stream = try #require(try Row.fetchOne(db, sql: "SELECT * FROM streams"))
            #expect(text(stream, "stream_id") == "stream-1")
            #expect(text(stream, "engagement_id") == "eng-1")
            #expect(text(stream, "state") == "stopped")
            #expect(text(stream, "server_host") == "rtms.zoom.us")
            #expect(number(stream, "stop_code") == 1)
            #expect(text(stream, "stop_name") == "STOP_BC_HOST_TRIGGERED")
            #expect(number(stream, "sample_rate") == 16_000)
            #expect(number(stream, "frame_ms") == 20)

            // Without store_audio: every non-audio event, no audio rows.
            let types = try String.fetchAll(db, sql: "SELECT type FROM events ORDER BY id")
            #expect(types == ["engagement.started", "stream.started", "stream.connected", "transcript", "participant", "stream.stopped", "engagement.ended"])
            let json = try #require(try String.fetchOne(db, sql: "SELECT json FROM events WHERE type = 'participant'"))
            #expect(try StreamEvent.decode(json: Data(json.utf8)).type == .participant)

            let transcript = try #require(try Row.fetchOne(db, sql: "SELECT * FROM transcripts"))
            #expect(text(transcript, "text") == "How can I help?")
            #expect(text(transcript, "speaker") == "Ada")
            #expect(text(transcript, "language") == "en")
            #expect(number(transcript, "start_ms") == 1_764_000_000_600)

            let agent = try #require(try Row.fetchOne(db, sql: "SELECT * FROM audio_channels WHERE channel = 'agent'"))
            #expect(number(agent, "frames") == 100)
            #expect(number(agent, "bytes") == 64_000)
            #expect(number(agent, "gaps") == 0)
            #expect(text(agent, "user_name") == "Ada")
            let customer = try #require(try Row.fetchOne(db, sql: "SELECT * FROM audio_channels WHERE channel = 'customer'"))
            #expect(number(customer, "frames") == 80)
            #expect(number(customer, "gaps") == 1)
            #expect(number(customer, "gap_ms") == 400)
            #expect(number(customer, "first_timestamp") == 1_764_000_000_000)
            #expect(number(customer, "last_timestamp") == 1_764_000_001_980)

            let seconds = try Row.fetchAll(db, sql: "SELECT second, peak FROM audio_levels WHERE channel = 'agent' ORDER BY second")
            #expect(seconds.count == 2)
            let expectedPeak = (0..<16_000).map { abs(Int(DeterministicAudio.sample(party: 0, index: $0))) }.max()!
            #expect(seconds.first.flatMap { number($0, "peak") } == Int64(expectedPeak))
        }
    }

    @Test("audio blobs are stored only with store_audio, as raw PCM")
    func audioBlobsOnlyWhenAsked() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        for storeAudio in [false, true] {
            let path = dir.path + "/archive-\(storeAudio).sqlite"
            let (sink, _) = makeArchive(path: path, storeAudio: storeAudio)
            try await sink.start()
            try await sink.consume(recordedCall())
            try await sink.finish()
            let db = try DatabaseQueue(path: path)
            let (count, first) = try await db.read { db in
                (try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE type = 'audio'")!,
                 try Row.fetchOne(db, sql: "SELECT json, pcm, channel, zoom_timestamp FROM events WHERE type = 'audio' ORDER BY id"))
            }
            #expect(count == (storeAudio ? 180 : 0))
            if storeAudio {
                let row = try #require(first)
                let pcm: Data? = row["pcm"]
                #expect(pcm == Data(DeterministicAudio().frameBytes(party: 0, frame: 0)))
                #expect(text(row, "channel") == "agent")
                #expect(number(row, "zoom_timestamp") == 1_764_000_000_000)
                #expect(text(row, "json")?.contains("\"pcm_bytes\":640") == true)
            }
        }
    }

    @Test("the archive uses WAL with synchronous NORMAL and a versioned schema; reopening migrates nothing twice")
    func pragmasAndMigrations() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/nested/archive.sqlite"
        for _ in 0..<2 {
            let (sink, _) = makeArchive(path: path)
            try await sink.start()
            try await sink.consume(Array(recordedCall().prefix(3)))
            try await sink.finish()
        }
        let pool = try ArchiveDatabase.open(path: path)
        let (journal, synchronous, migrations, streams) = try await pool.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode")!, try Int.fetchOne(db, sql: "PRAGMA synchronous")!,
             try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"), try Int.fetchOne(db, sql: "SELECT count(*) FROM streams")!)
        }
        #expect(journal == "wal")
        #expect(synchronous == 1)  // NORMAL
        #expect(migrations == ArchiveSchema.migrator.migrations, "each migration once, in order")
        #expect(streams == 1)
        try pool.close()
    }

    @Test("events read back from the archive equal the events archived, PCM included")
    func readerRoundTrip() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/archive.sqlite"
        let (sink, _) = makeArchive(path: path, storeAudio: true)
        try await sink.start()
        let call = recordedCall() + recordedCall(engagement: "eng-2", stream: "stream-2")
        try await sink.consume(call)
        try await sink.finish()
        let reader = try ArchiveReader(path: path)
        var read: [StreamEvent] = []
        for try await batch in reader.events(batchSize: 50) { read += batch }
        #expect(read.count == call.count)
        #expect(try read.map { try $0.jsonData() } == call.map { try $0.jsonData() })
        var one: [StreamEvent] = []
        for try await batch in reader.events(engagement: "eng-2") { one += batch }
        #expect(one.count == call.count / 2 && one.allSatisfy { $0.engagementID == "eng-2" })
        #expect(try await reader.engagementIDs() == ["eng-1", "eng-2"])
    }

    @Test("a write that fails is reported on health; the rows are kept and written once the archive works again")
    func failureIsReported() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/archive.sqlite"
        let (sink, context) = makeArchive(path: path)
        try await sink.start()
        let call = recordedCall()
        try await sink.consume(Array(call.prefix(3)))
        // Someone drops a table under the relay: the next writes fail.
        let db = try DatabaseQueue(path: path)
        let schema = try await db.read { try String.fetchOne($0, sql: "SELECT sql FROM sqlite_master WHERE name = 'transcripts'") }
        try await db.write { try $0.execute(sql: "DROP TABLE transcripts") }
        try await sink.consume(Array(call.dropFirst(3)))
        guard case .degraded(let reason) = context.health else {
            Issue.record("health stayed ok")
            return
        }
        #expect(reason.contains("archive.sqlite"))
        // The table comes back; the next attempt (at most a second later, from tick()) writes everything kept.
        try await db.write { try $0.execute(sql: try #require(schema)) }
        try await waitUntil(timeout: .seconds(5), "the kept rows written") {
            try await sink.tick()
            return context.health == .ok
        }
        try await sink.finish()
        let (archived, transcripts, frames) = try await db.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM transcripts") ?? 0,
             try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT channel, frames FROM audio_channels").map { ($0["channel"] as String, $0["frames"] as Int) }))
        }
        #expect(archived == call.filter { $0.type != .audio }.count)
        // The write that failed was the transcript's: it is there now, and so are the audio statistics kept meanwhile.
        #expect(transcripts == 1)
        #expect(frames == ["agent": 100, "customer": 80])
    }
}

/// A column as text, for short expectations.
func text(_ row: Row, _ column: String) -> String? { row[column] }
/// A column as an integer, for short expectations.
func number(_ row: Row, _ column: String) -> Int64? { row[column] }
