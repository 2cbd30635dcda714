import Foundation
import GRDB
import RelayCore
import Synchronization

/// The archive as a searchable list of calls, for the recordings page: a read-only connection beside the sink's
/// writer (WAL lets both work at once), opened on first use.
public final class ArchiveCatalog: CallArchive {
    public let path: String
    private let pool = Mutex<DatabasePool?>(nil)

    public init(path: String) {
        self.path = path
    }

    private func reader() throws -> DatabasePool {
        try pool.withLock { pool in
            if let pool { return pool }
            let opened = try ArchiveDatabase.openForReading(path: path)
            pool = opened
            return opened
        }
    }

    public func calls(_ query: CallQuery) async throws -> CallPage {
        let limit = min(max(query.limit, 1), CallQuery.maxLimit)
        var conditions: [String] = []
        var arguments = StatementArguments()
        Self.restrict(to: query.scope, &conditions, &arguments)
        let start = "coalesce(e.started_ms, e.first_seen_ms)"
        if let from = query.from {
            conditions.append("\(start) >= ?")
            arguments += [from]
        }
        if let to = query.to {
            conditions.append("\(start) < ?")
            arguments += [to]
        }
        if let agent = Self.pattern(query.agent) {
            conditions.append("""
                EXISTS (SELECT 1 FROM json_each(coalesce(e.agents, '[]')) a
                        WHERE json_extract(a.value, '$.user_id') LIKE ? ESCAPE '\\' OR json_extract(a.value, '$.display_name') LIKE ? ESCAPE '\\')
                """)
            arguments += [agent, agent]
        }
        if let caller = Self.pattern(query.caller) {
            conditions.append("(e.caller_name LIKE ? ESCAPE '\\' OR e.caller_number LIKE ? ESCAPE '\\')")
            arguments += [caller, caller]
        }
        if let engagement = Self.pattern(query.engagement) {
            conditions.append("e.engagement_id LIKE ? ESCAPE '\\'")
            arguments += [engagement]
        }
        var matched = "NULL"
        if let text = Self.pattern(query.text) {
            matched = "(SELECT t.text FROM transcripts t WHERE t.engagement_id = e.engagement_id AND t.text LIKE ? ESCAPE '\\' ORDER BY t.id LIMIT 1)"
            conditions.append("EXISTS (SELECT 1 FROM transcripts t WHERE t.engagement_id = e.engagement_id AND t.text LIKE ? ESCAPE '\\')")
            arguments = [text] + arguments + [text]
        }
        if let cursor = query.cursor {
            conditions.append("(\(start) < ? OR (\(start) = ? AND e.engagement_id < ?))")
            arguments += [cursor.startedMillis, cursor.startedMillis, cursor.engagementID]
        }
        let sql = """
            SELECT e.*, \(start) AS call_start, \(matched) AS matched,
                   (SELECT count(*) FROM streams s WHERE s.engagement_id = e.engagement_id) AS stream_count
            FROM engagements e
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY call_start DESC, e.engagement_id DESC LIMIT ?
            """
        arguments += [limit + 1]
        let found = arguments
        let rows = try await reader().read { db in try Row.fetchAll(db, sql: sql, arguments: found) }
        let calls = rows.prefix(limit).map(Self.summary)
        let next = rows.count > limit ? calls.last.map { CallCursor(startedMillis: $0.startedMillis, engagementID: $0.engagementID) } : nil
        return CallPage(calls: Array(calls), nextCursor: next)
    }

    public func summary(of engagementID: String, scope: CallScope) async throws -> CallSummary? {
        let (sql, arguments) = Self.select(engagementID, scope: scope)
        return try await reader().read { db in try Row.fetchOne(db, sql: sql, arguments: arguments).map(Self.summary) }
    }

    /// The one call `engagementID`, if `scope` may see it.
    private static func select(_ engagementID: String, scope: CallScope) -> (String, StatementArguments) {
        var conditions = ["e.engagement_id = ?"]
        var arguments: StatementArguments = [engagementID]
        restrict(to: scope, &conditions, &arguments)
        return ("""
            SELECT e.*, coalesce(e.started_ms, e.first_seen_ms) AS call_start, NULL AS matched,
                   (SELECT count(*) FROM streams s WHERE s.engagement_id = e.engagement_id) AS stream_count
            FROM engagements e WHERE \(conditions.joined(separator: " AND "))
            """, arguments)
    }

    public func call(_ engagementID: String, scope: CallScope) async throws -> CallDetail? {
        let markerTypes = [EventType.engagementStarted, .engagementEnded, .streamStarted, .streamConnected, .streamInterrupted, .streamResumed,
                           .streamPaused, .streamUnpaused, .streamStopped, .streamFailed, .participant]
        let (sql, found) = Self.select(engagementID, scope: scope)
        return try await reader().read { db -> CallDetail? in
            guard let row = try Row.fetchOne(db, sql: sql, arguments: found) else { return nil }
            let channels = try Row.fetchAll(db, sql: "SELECT * FROM audio_channels WHERE engagement_id = ? ORDER BY stream_id, channel", arguments: [engagementID])
            let byStream = Dictionary(grouping: channels, by: { $0["stream_id"] as String })
            let streams = try Row.fetchAll(db, sql: "SELECT * FROM streams WHERE engagement_id = ? ORDER BY coalesce(started_ms, first_seen_ms), stream_id", arguments: [engagementID]).map { s in
                let id: String = s["stream_id"]
                return CallDetail.Segment(
                    streamID: id, startedMillis: s["started_ms"] ?? s["first_seen_ms"], stoppedMillis: s["stopped_ms"], state: s["state"],
                    stopReason: s["stop_name"] ?? s["failure"], sampleRate: s["sample_rate"],
                    channels: (byStream[id] ?? []).map { c in
                        CallDetail.Channel(channel: c["channel"], userName: c["user_name"], frames: c["frames"], gaps: c["gaps"], gapMillis: c["gap_ms"],
                                           firstTimestamp: c["first_timestamp"], lastTimestamp: c["last_timestamp"])
                    })
            }
            let markers = try Row.fetchAll(db, sql: """
                SELECT type, stream_id, time_ms,
                       coalesce(json_extract(json, '$.reason.name'), json_extract(json, '$.event_name'), json_extract(json, '$.message'),
                                json_extract(json, '$.reason')) AS detail
                FROM events WHERE engagement_id = ? AND type IN (\(markerTypes.map { "'\($0.rawValue)'" }.joined(separator: ", "))) ORDER BY id
                """, arguments: [engagementID]).compactMap { m -> CallDetail.Marker? in
                guard let type = EventType(rawValue: m["type"]) else { return nil }
                return CallDetail.Marker(type: type, streamID: m["stream_id"], timeMillis: m["time_ms"], detail: m["detail"])
            }
            let transcript = try Row.fetchAll(db, sql: "SELECT * FROM transcripts WHERE engagement_id = ? ORDER BY coalesce(start_ms, time_ms), id", arguments: [engagementID]).map { t in
                CallDetail.Line(streamID: t["stream_id"], channel: t["channel"], speaker: t["speaker"], text: t["text"], start: t["start_ms"], end: t["end_ms"], timeMillis: t["time_ms"])
            }
            // Each party's role, from the participant events in the order they came: a later event for a channel wins,
            // channels past the cap are ignored, and only text counts, as on the live page (`CallDetails`).
            var channelRoles: [String: CallRole] = [:]
            for p in try Row.fetchAll(db, sql: """
                SELECT CASE WHEN json_type(json, '$.participant.channel_id') = 'text' THEN json_extract(json, '$.participant.channel_id') END AS channel,
                       CASE WHEN json_type(json, '$.participant.participant_mode') = 'text' THEN json_extract(json, '$.participant.participant_mode') END AS mode
                FROM events WHERE engagement_id = ? AND type = 'participant' ORDER BY id
                """, arguments: [engagementID]) {
                guard let channel = p["channel"] as String?, !channel.isEmpty, let role = CallRole(participantMode: p["mode"]),
                      channelRoles[channel] != nil || channelRoles.count < ChannelAdmission.defaultLimit else { continue }
                channelRoles[channel] = role
            }
            return CallDetail(summary: Self.summary(row), streams: streams, markers: markers, transcript: transcript, channelRoles: channelRoles)
        }
    }

    /// The SQL form of `CallScope`: an account's calls, or those of an account one agent is on.
    private static func restrict(to scope: CallScope, _ conditions: inout [String], _ arguments: inout StatementArguments) {
        switch scope {
        case .all:
            break
        case .account(let account):
            conditions.append("e.account_id = ?")
            arguments += [account]
        case .agent(let account, let user):
            conditions.append("e.account_id = ? AND EXISTS (SELECT 1 FROM json_each(coalesce(e.agents, '[]')) a WHERE json_extract(a.value, '$.user_id') = ?)")
            arguments += [account, user]
        }
    }

    /// `%text%` for LIKE, with LIKE's wildcards in `text` escaped; nil for an absent or blank filter.
    static func pattern(_ text: String?) -> String? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        return "%" + escaped + "%"
    }

    private static func summary(_ row: Row) -> CallSummary {
        var agents: [CallParty] = []
        if let json: String = row["agents"], let list = try? JSONDecoder().decode([AgentJSON].self, from: Data(json.utf8)) {
            agents = list.map { CallParty(userID: $0.user_id, name: $0.display_name) }
        }
        let callerName: String? = row["caller_name"], callerNumber: String? = row["caller_number"]
        return CallSummary(
            engagementID: row["engagement_id"], accountID: row["account_id"], startedMillis: row["call_start"], endedMillis: row["ended_ms"],
            durationMillis: row["duration_ms"], direction: row["direction"], queue: row["queue_name"], agents: agents,
            caller: callerName == nil && callerNumber == nil ? nil : CallParty(name: callerName, phoneNumber: callerNumber),
            streamCount: row["stream_count"], matchedText: row["matched"])
    }

    private struct AgentJSON: Decodable {
        var user_id: String?
        var display_name: String?
    }
}
