import Foundation
import GRDB
import NIOCore
import RelayCore
import RelayTesting
import Testing
@testable import SQLiteSink

@Suite("SQLite sink: hostile numbers and channel ids in events")
struct SQLiteSinkWireValueTests {
    let audio = DeterministicAudio()

    func frame(_ channel: String, timestamp: Int64, seq: UInt64) -> StreamEvent {
        var event = audio.event(engagement: "eng-1", stream: "stream-1", channel: channel, party: 0, frame: 0)
        guard case .audio(var frame) = event.kind else { return event }
        frame.timestamp = timestamp
        event.kind = .audio(frame)
        event.seq = seq
        return event
    }

    @Test("security #3: audio statistics saturate instead of trapping on timestamps 1000, 999999999999999999, Int64.max and negative ones")
    func hostileTimestamps() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (sink, context) = makeArchive(path: dir.path + "/archive.sqlite")
        try await sink.start()
        let timestamps: [Int64] = [1000, 999_999_999_999_999_999, .max, .max, -999_999_999_999_999_999, .min, .min, 1020]
        try await sink.consume(timestamps.enumerated().map { frame("agent", timestamp: $1, seq: UInt64($0 + 1)) })
        try await sink.finish()
        #expect(context.health == .ok)
        let db = try DatabaseQueue(path: dir.path + "/archive.sqlite")
        let agent = try #require(try await db.read { try Row.fetchOne($0, sql: "SELECT * FROM audio_channels WHERE channel = 'agent'") })
        #expect(agent["frames"] as Int64? == Int64(timestamps.count))
        #expect((agent["gap_ms"] as Int64? ?? -1) >= 0)
    }

    @Test("security #12: a stream's audio statistics keep at most 8 parties, however many channel ids the media server invents")
    func channelCap() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (sink, _) = makeArchive(path: dir.path + "/archive.sqlite")
        try await sink.start()
        try await sink.consume((0..<50).map { frame("invented-\($0)", timestamp: audio.origin, seq: UInt64($0 + 1)) })
        try await sink.finish()
        let db = try DatabaseQueue(path: dir.path + "/archive.sqlite")
        let parties = try await db.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM audio_channels") }
        #expect(parties == ChannelAdmission.defaultLimit)
    }
}
