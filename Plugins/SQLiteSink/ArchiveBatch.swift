import Foundation
import GRDB
import RelayCore

/// One transaction's worth of archive rows, prepared by the sink (JSON encoding, statistics) before the
/// write, so the database's writer spends its time on SQL only.
struct ArchiveBatch: Sendable {
    /// One archived event and what it changes in the summary tables.
    struct EventRow: Sendable {
        var seq: Int64
        var timeMillis: Int64
        var type: String
        var engagementID: String
        var streamID: String?
        var channel: String?
        var zoomTimestamp: Int64?
        var json: String
        var pcm: Data?
        var effect: Effect

        /// Whether the row changes what `ArchiveSchema.deriveCallDetails` reads.
        var describesCall: Bool {
            switch effect {
            case .engagementStarted, .engagementEnded: true
            default: type == EventType.participant.rawValue
            }
        }
    }

    /// How an event updates `engagements`, `streams` or `transcripts`.
    enum Effect: Sendable {
        case none
        case engagementStarted(payload: String)
        case engagementEnded(payload: String)
        case streamStarted(serverHost: String)
        case streamConnected(mediaParams: String, sampleRate: Int, frameMilliseconds: Int)
        case streamInterrupted
        case streamState(String)
        case streamStopped(code: Int, name: String)
        case streamFailed(message: String)
        case transcript(Transcript)
    }

    var engagements: [String: ClosedRange<Int64>] = [:]
    var streams: [String: (engagementID: String, time: Int64)] = [:]
    var events: [EventRow] = []
    var channels: [AudioStatisticsTracker.ChannelDelta] = []
    var levels: [(AudioStatisticsTracker.Level, Int)] = []

    var isEmpty: Bool { engagements.isEmpty && channels.isEmpty }

    /// Rows this batch would write, to bound what is kept while the archive cannot be written.
    var rowCount: Int { events.count + channels.count + levels.count }

    /// Adds a later batch to this one, so both go in one transaction. Every write is an insert or an additive
    /// upsert, so writing the two together equals writing them one after the other.
    mutating func append(_ later: ArchiveBatch) {
        for (id, seen) in later.engagements {
            let mine = engagements[id]
            engagements[id] = min(mine?.lowerBound ?? seen.lowerBound, seen.lowerBound)...max(mine?.upperBound ?? seen.upperBound, seen.upperBound)
        }
        for (id, seen) in later.streams where streams[id] == nil { streams[id] = seen }
        events += later.events
        // Statistics are coalesced per party (and per party and second for levels), so a long outage keeps one
        // row per party rather than one per batch.
        if channels.isEmpty {
            channels = later.channels
        } else {
            appendChannels(later.channels)
        }
        if levels.isEmpty {
            levels = later.levels
        } else if !later.levels.isEmpty {
            var peaks = Dictionary(levels, uniquingKeysWith: max)
            for (key, peak) in later.levels { peaks[key] = max(peaks[key] ?? peak, peak) }
            levels = peaks.map { ($0.key, $0.value) }
        }
    }

    private mutating func appendChannels(_ deltas: [AudioStatisticsTracker.ChannelDelta]) {
        var positions: [String: Int] = [:]
        for (position, channel) in channels.enumerated() { positions[channel.streamID + "\u{0}" + channel.channel] = position }
        for delta in deltas {
            let key = delta.streamID + "\u{0}" + delta.channel
            guard let index = positions[key] else {
                positions[key] = channels.count
                channels.append(delta)
                continue
            }
            channels[index].userName = delta.userName ?? channels[index].userName
            channels[index].frames += delta.frames
            channels[index].bytes += delta.bytes
            channels[index].gaps += delta.gaps
            channels[index].gapMs = channels[index].gapMs.addingSaturated(delta.gapMs)
            channels[index].firstTimestamp = min(channels[index].firstTimestamp, delta.firstTimestamp)
            channels[index].lastTimestamp = max(channels[index].lastTimestamp, delta.lastTimestamp)
        }
    }

    mutating func saw(engagementID: String, streamID: String?, at time: Int64) {
        let seen = engagements[engagementID]
        engagements[engagementID] = min(seen?.lowerBound ?? time, time)...max(seen?.upperBound ?? time, time)
        if let streamID, streams[streamID] == nil { streams[streamID] = (engagementID, time) }
    }

    func write(_ db: Database) throws {
        let engagement = try db.cachedStatement(sql: """
            INSERT INTO engagements (engagement_id, first_seen_ms, last_seen_ms) VALUES (?, ?, ?)
            ON CONFLICT (engagement_id) DO UPDATE SET last_seen_ms = max(last_seen_ms, excluded.last_seen_ms)
            """)
        for (id, seen) in engagements { try engagement.execute(arguments: [id, seen.lowerBound, seen.upperBound]) }
        let stream = try db.cachedStatement(sql: """
            INSERT INTO streams (stream_id, engagement_id, state, first_seen_ms) VALUES (?, ?, 'seen', ?)
            ON CONFLICT (stream_id) DO NOTHING
            """)
        for (id, seen) in streams { try stream.execute(arguments: [id, seen.engagementID, seen.time]) }

        let event = try db.cachedStatement(sql: """
            INSERT INTO events (seq, time_ms, type, engagement_id, stream_id, channel, zoom_timestamp, json, pcm)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        var described = Set<String>()
        for row in events {
            try event.execute(arguments: [row.seq, row.timeMillis, row.type, row.engagementID, row.streamID, row.channel, row.zoomTimestamp, row.json, row.pcm])
            try apply(row, eventID: db.lastInsertedRowID, db)
            if row.describesCall { described.insert(row.engagementID) }
        }
        if !described.isEmpty {
            let derive = try db.cachedStatement(sql: ArchiveSchema.deriveCallDetails + " WHERE engagement_id = ?")
            for id in described { try derive.execute(arguments: [id]) }
        }

        let channel = try db.cachedStatement(sql: """
            INSERT INTO audio_channels (stream_id, channel, engagement_id, user_name, sample_rate, frames, bytes, gaps, gap_ms, first_timestamp, last_timestamp)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (stream_id, channel) DO UPDATE SET
                user_name = coalesce(excluded.user_name, user_name),
                frames = frames + excluded.frames, bytes = bytes + excluded.bytes,
                gaps = gaps + excluded.gaps, gap_ms = gap_ms + excluded.gap_ms,
                first_timestamp = min(first_timestamp, excluded.first_timestamp),
                last_timestamp = max(last_timestamp, excluded.last_timestamp)
            """)
        for c in channels {
            try channel.execute(arguments: [c.streamID, c.channel, c.engagementID, c.userName, c.sampleRate, c.frames, c.bytes, c.gaps, c.gapMs, c.firstTimestamp, c.lastTimestamp])
        }
        let level = try db.cachedStatement(sql: """
            INSERT INTO audio_levels (stream_id, channel, second, peak) VALUES (?, ?, ?, ?)
            ON CONFLICT (stream_id, channel, second) DO UPDATE SET peak = max(peak, excluded.peak)
            """)
        for (key, peak) in levels { try level.execute(arguments: [key.streamID, key.channel, key.second, peak]) }
    }

    private func apply(_ row: EventRow, eventID: Int64, _ db: Database) throws {
        let id = row.streamID
        switch row.effect {
        case .none:
            break
        case .engagementStarted(let payload):
            try db.execute(sql: "UPDATE engagements SET started_ms = coalesce(started_ms, ?), start_payload = ? WHERE engagement_id = ?", arguments: [row.timeMillis, payload, row.engagementID])
        case .engagementEnded(let payload):
            try db.execute(sql: "UPDATE engagements SET ended_ms = ?, end_payload = ? WHERE engagement_id = ?", arguments: [row.timeMillis, payload, row.engagementID])
        case .streamStarted(let host):
            try db.execute(sql: "UPDATE streams SET state = 'started', server_host = ?, started_ms = coalesce(started_ms, ?) WHERE stream_id = ?", arguments: [host, row.timeMillis, id])
        case .streamConnected(let params, let rate, let frameMs):
            try db.execute(sql: "UPDATE streams SET state = 'connected', connected_ms = coalesce(connected_ms, ?), media_params = ?, sample_rate = ?, frame_ms = ? WHERE stream_id = ?", arguments: [row.timeMillis, params, rate, frameMs, id])
        case .streamInterrupted:
            try db.execute(sql: "UPDATE streams SET state = 'interrupted', interruptions = interruptions + 1 WHERE stream_id = ?", arguments: [id])
        case .streamState(let state):
            try db.execute(sql: "UPDATE streams SET state = ? WHERE stream_id = ?", arguments: [state, id])
        case .streamStopped(let code, let name):
            try db.execute(sql: "UPDATE streams SET state = 'stopped', stopped_ms = ?, stop_code = ?, stop_name = ? WHERE stream_id = ?", arguments: [row.timeMillis, code, name, id])
        case .streamFailed(let message):
            try db.execute(sql: "UPDATE streams SET state = 'failed', stopped_ms = ?, failure = ? WHERE stream_id = ?", arguments: [row.timeMillis, message, id])
        case .transcript(let t):
            try db.execute(
                sql: "INSERT INTO transcripts (event_id, engagement_id, stream_id, channel, speaker, text, start_ms, end_ms, language, time_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [eventID, row.engagementID, id, t.channel, t.speaker, t.text, t.start, t.end, t.language, row.timeMillis]
            )
        }
    }
}
