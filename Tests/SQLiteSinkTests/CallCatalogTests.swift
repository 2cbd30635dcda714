import Foundation
import GRDB
import Logging
import RelayCore
import RelayTesting
@testable import SQLiteSink
import Testing

/// The archive as the recordings page searches it: call details derived from the archived webhooks and
/// participant events, the search filters and paging, the scopes of each role, the v2 migration of an archive
/// written by today's relay, and retention. Real SQLite files.
@Suite("Call catalog: search, scopes, migration and retention of the archive")
struct CallCatalogTests {
    /// A call as Zoom describes it: the engagement webhook names account, direction and agent, a participant
    /// event the caller and queue, and the transcript has the words `said`.
    static func call(_ id: String, account: String = "acct-1", agent: String = "agent-A", agentName: String = "Ada Agent",
                     caller: String = "Carl Caller", number: String = "+15550001", at start: Int64, said: [String] = []) -> [StreamEvent] {
        let payload: JSONValue = .object([
            "account_id": .string(account),
            "object": .object(["engagement_id": .string(id), "direction": .string("inbound"),
                               "agents": .array([.object(["user_id": .string(agent), "display_name": .string(agentName)])])]),
        ])
        let stream = "stream-" + id
        var events = [
            StreamEvent(timeMillis: start, engagementID: id, kind: .engagementStarted(payload: payload)),
            StreamEvent(timeMillis: start + 10, engagementID: id, streamID: stream, kind: .streamStarted(serverHost: "rtms.zoom.us")),
            StreamEvent(timeMillis: start + 20, engagementID: id, streamID: stream, kind: .participant(ParticipantEvent(
                eventType: 8, eventName: "CONSUMER_ANSWERED",
                participant: .object(["participant_mode": .string("caller"), "display_name": .string(caller), "phone_number": .string(number),
                                      "queue_name": .string("Billing"), "channel_id": .string("1")])))),
        ]
        for (index, text) in said.enumerated() {
            events.append(StreamEvent(timeMillis: start + 1_000 * Int64(index + 1), engagementID: id, streamID: stream,
                                      kind: .transcript(Transcript(channel: "1", speaker: caller, text: text, start: start + 1_000 * Int64(index)))))
        }
        events.append(StreamEvent(timeMillis: start + 60_000, engagementID: id, streamID: stream, kind: .streamStopped(StopReason(code: 1, name: "STOP_BC_HOST_TRIGGERED"))))
        events.append(StreamEvent(timeMillis: start + 61_000, engagementID: id, kind: .engagementEnded(payload: .object(["account_id": .string(account)]))))
        return events
    }

    static func archive(_ events: [StreamEvent], in directory: TemporaryDirectory) async throws -> ArchiveCatalog {
        let (sink, _) = makeArchive(path: directory.path + "/archive.sqlite")
        try await sink.start()
        try await sink.consume(events)
        try await sink.finish()
        return ArchiveCatalog(path: directory.path + "/archive.sqlite")
    }

    static let day: Int64 = 86_400_000
    static let base: Int64 = 1_796_000_000_000

    @Test("each party's role comes from its channel's participant_mode; hostile participant events change nothing")
    func roles() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var events = Self.call("e1", at: Self.base, said: ["hello"])
        func participant(_ info: [String: JSONValue], at offset: Int64) -> StreamEvent {
            StreamEvent(timeMillis: Self.base + offset, engagementID: "e1", streamID: "stream-e1",
                        kind: .participant(ParticipantEvent(eventType: 10, eventName: "USER_ANSWERED", participant: .object(info))))
        }
        // The agent's channel, under a name the webhook never gave; then what a hostile media server might send:
        // a number for a channel id, a mode that names no role, a channel id of the wrong type, and a flood of
        // invented channels past the cap.
        events.append(participant(["participant_mode": .string("agent"), "channel_id": .string("0"), "display_name": .string("Ada (desk 4)")], at: 30))
        events.append(participant(["participant_mode": .string("caller"), "channel_id": .number(7)], at: 31))
        events.append(participant(["participant_mode": .string("monitor"), "channel_id": .string("5")], at: 32))
        events.append(participant(["participant_mode": .number(1), "channel_id": .string("6")], at: 33))
        for n in 0..<20 { events.append(participant(["participant_mode": .string("caller"), "channel_id": .string("x\(n)")], at: 40 + Int64(n))) }
        events.append(StreamEvent(timeMillis: Self.base + 70, engagementID: "e1", streamID: "stream-e1",
                                  kind: .transcript(Transcript(channel: "0", speaker: "Ada (desk 4)", text: "how can I help", start: Self.base + 70))))
        events.append(StreamEvent(timeMillis: Self.base + 80, engagementID: "e1", streamID: "stream-e1",
                                  kind: .transcript(Transcript(channel: "9", speaker: "Sam Supervisor", text: "listening in", start: Self.base + 80))))
        let catalog = try await Self.archive(events, in: directory)
        let detail = try #require(try await catalog.call("e1", scope: .all))
        #expect(detail.channelRoles["1"] == .customer)
        #expect(detail.channelRoles["0"] == .agent)
        #expect(detail.channelRoles["5"] == nil && detail.channelRoles["6"] == nil && detail.channelRoles["7"] == nil)
        #expect(detail.channelRoles.count == ChannelAdmission.defaultLimit)
        let roles = detail.transcript.map { detail.role(channel: $0.channel, name: $0.speaker) }
        // The caller's line (channel 1), the agent's under a name no webhook gave (channel 0), and an unknown party.
        #expect(roles == [.customer, .agent, nil])
    }

    @Test("the details Zoom sent are archived: account, agents, caller, queue, direction, start, end and duration")
    func details() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let catalog = try await Self.archive(Self.call("e1", at: Self.base, said: ["hello"]), in: directory)
        let call = try #require(try await catalog.summary(of: "e1", scope: .all))
        #expect(call.accountID == "acct-1")
        #expect(call.agents == [CallParty(userID: "agent-A", name: "Ada Agent")])
        #expect(call.caller == CallParty(name: "Carl Caller", phoneNumber: "+15550001"))
        #expect(call.queue == "Billing")
        #expect(call.direction == "inbound")
        #expect(call.startedMillis == Self.base)
        #expect(call.endedMillis == Self.base + 61_000)
        #expect(call.durationMillis == 61_000)
        #expect(call.streamCount == 1)
        let detail = try #require(try await catalog.call("e1", scope: .all))
        #expect(detail.transcript.map(\.text) == ["hello"])
        #expect(detail.markers.map(\.type) == [.engagementStarted, .streamStarted, .participant, .streamStopped, .engagementEnded])
        #expect(detail.markers.first { $0.type == .streamStopped }?.detail == "STOP_BC_HOST_TRIGGERED")
    }

    @Test("search by agent, caller, engagement id, words said and date range; newest first; paged with a cursor")
    func search() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var events: [StreamEvent] = []
        events += Self.call("e-old", agent: "agent-B", agentName: "Bea Agent", caller: "Dora", number: "+1999", at: Self.base - 3 * Self.day, said: ["my invoice is wrong"])
        events += Self.call("e-mid", at: Self.base - Self.day, said: ["I want a refund please"])
        events += Self.call("e-new", at: Self.base, said: ["thanks, bye"])
        events += Self.call("e-other", account: "acct-2", at: Self.base + 1_000, said: ["refund"])
        let catalog = try await Self.archive(events, in: directory)
        func ids(_ query: CallQuery) async throws -> [String] { try await catalog.calls(query).calls.map(\.engagementID) }

        #expect(try await ids(CallQuery()) == ["e-other", "e-new", "e-mid", "e-old"])
        #expect(try await ids(CallQuery(agent: "bea")) == ["e-old"])
        #expect(try await ids(CallQuery(agent: "agent-b")) == ["e-old"], "user ids match case-insensitively too")
        #expect(try await ids(CallQuery(caller: "+1999")) == ["e-old"])
        #expect(try await ids(CallQuery(caller: "carl")) == ["e-other", "e-new", "e-mid"])
        #expect(try await ids(CallQuery(engagement: "mid")) == ["e-mid"])
        #expect(try await ids(CallQuery(text: "REFUND")) == ["e-other", "e-mid"])
        #expect(try await catalog.calls(CallQuery(text: "refund")).calls.last?.matchedText == "I want a refund please")
        #expect(try await ids(CallQuery(text: "%")) == [], "LIKE wildcards are literal")
        #expect(try await ids(CallQuery(from: Self.base - 2 * Self.day, to: Self.base)) == ["e-mid"])

        // Paging: two at a time, the cursor continues exactly where the page ended.
        let first = try await catalog.calls(CallQuery(limit: 2))
        #expect(first.calls.map(\.engagementID) == ["e-other", "e-new"])
        let cursor = try #require(first.nextCursor)
        #expect(CallCursor(token: cursor.token) == cursor)
        let second = try await catalog.calls(CallQuery(limit: 2, cursor: cursor))
        #expect(second.calls.map(\.engagementID) == ["e-mid", "e-old"])
        #expect(second.nextCursor == nil)
    }

    @Test("scopes: an account sees its calls, an agent the calls of their account they are on")
    func scopes() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let catalog = try await Self.archive(
            Self.call("a1", at: Self.base) + Self.call("a2", agent: "agent-B", at: Self.base + 1) + Self.call("b1", account: "acct-2", at: Self.base + 2),
            in: directory)
        func ids(_ scope: CallScope, _ query: CallQuery = CallQuery()) async throws -> [String] {
            var query = query
            query.scope = scope
            return try await catalog.calls(query).calls.map(\.engagementID)
        }
        #expect(try await ids(.account("acct-1")) == ["a2", "a1"])
        #expect(try await ids(.agent(account: "acct-1", userID: "agent-A")) == ["a1"])
        #expect(try await ids(.agent(account: "acct-2", userID: "agent-A")) == ["b1"])
        #expect(try await ids(.agent(account: "acct-1", userID: "agent-A"), CallQuery(engagement: "a2")) == [])
        #expect(try await catalog.call("b1", scope: .account("acct-1")) == nil)
        #expect(try await catalog.summary(of: "a2", scope: .agent(account: "acct-1", userID: "agent-A")) == nil)
        #expect(try await ids(.account("")) == [])
    }

    @Test("an archive written with today's schema (v1) is migrated: the call details are filled in from what it holds")
    func migration() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/archive.sqlite"
        // Today's archive: only the v1 migration, with the rows the v1 sink wrote for one call.
        let old = try DatabaseQueue(path: path)
        try ArchiveSchema.migrator.migrate(old, upTo: "v1: engagements, streams, events, transcripts, audio statistics")
        let payload = #"{"account_id":"acct-1","object":{"engagement_id":"e1","direction":"outbound","user_id":"agent-A","display_name":"Ada"}}"#
        let participant = #"{"type":"participant","event_type":8,"event_name":"CONSUMER_ANSWERED","participant":{"participant_mode":"caller","display_name":"Carl","phone_number":"+1555","queue_name":"Sales"}}"#
        try await old.write { db in
            try db.execute(sql: "INSERT INTO engagements (engagement_id, first_seen_ms, last_seen_ms, started_ms, ended_ms, start_payload) VALUES ('e1', 100, 5000, 100, 4100, ?)", arguments: [payload])
            try db.execute(sql: "INSERT INTO events (seq, time_ms, type, engagement_id, json) VALUES (1, 200, 'participant', 'e1', ?)", arguments: [participant])
        }
        try old.close()

        let (sink, _) = makeArchive(path: path)
        try await sink.start()
        try await sink.finish()
        let migrated = try DatabaseQueue(path: path)
        let applied = try await migrated.read { db in try ArchiveSchema.migrator.appliedMigrations(db) }
        #expect(applied.count == 2)
        try migrated.close()
        let call = try #require(try await ArchiveCatalog(path: path).summary(of: "e1", scope: .agent(account: "acct-1", userID: "agent-A")))
        #expect(call.direction == "outbound")
        #expect(call.agents == [CallParty(userID: "agent-A", name: "Ada")])
        #expect(call.caller == CallParty(name: "Carl", phoneNumber: "+1555"))
        #expect(call.queue == "Sales")
        #expect(call.durationMillis == 4_000)
    }

    @Test("retention.days deletes calls last seen before the cutoff with all their rows, keeps newer ones, and logs what it deleted")
    func retention() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let now = EventClock.nowMillis()
        let logs = LogCapture()
        let context = SinkContext(id: "archive", logger: logs.logger())
        let sink = SQLiteSink(options: SQLiteSinkOptions(path: directory.path + "/archive.sqlite", retention: Retention(days: 30)), context: context)
        try await sink.start()
        try await sink.consume(Self.call("old", at: now - 40 * Self.day, said: ["old words"]) + Self.call("recent", at: now - 2 * Self.day, said: ["new words"]))
        try await sink.tick()
        try await sink.finish()
        let catalog = ArchiveCatalog(path: directory.path + "/archive.sqlite")
        #expect(try await catalog.calls(CallQuery()).calls.map(\.engagementID) == ["recent"])
        let queue = try DatabaseQueue(path: directory.path + "/archive.sqlite")
        let leftovers = try await queue.read { db in
            try Int.fetchOne(db, sql: "SELECT (SELECT count(*) FROM events WHERE engagement_id = 'old') + (SELECT count(*) FROM transcripts WHERE engagement_id = 'old') + (SELECT count(*) FROM streams WHERE engagement_id = 'old')")
        }
        #expect(leftovers == 0)
        #expect(logs.lines(containing: "retention: deleted old calls").contains { $0.contains("calls=1") }, "\(logs.all)")
    }

    @Test("retention.days is checked: 0 or more than 100 years is a configuration error naming the key")
    func retentionChecked() throws {
        for bad in ["0", "-1", "36501"] {
            #expect(throws: OptionError.self) {
                try JSONDecoder().decode(Retention.self, from: Data(#"{"days": \#(bad)}"#.utf8))
            }
        }
        #expect(try JSONDecoder().decode(Retention.self, from: Data(#"{"days": 7}"#.utf8)).days == 7)
    }
}
