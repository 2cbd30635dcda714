import GRDB
import RelayCore

/// The archive's tables, as a list of migrations: new versions append a migration and never edit an old one,
/// so an archive written by any earlier relay opens in a newer one.
///
/// - `engagements`, `streams`: one row each, updated as their events arrive (state, times, stop reason).
/// - `events`: every event in archive order, typed columns for querying and the stable JSON form (docs/writing-a-sink.md, "1. What a sink receives")
///   for everything else; audio rows only with `store_audio`, with the PCM as a raw blob (never base64).
/// - `transcripts`: one row per segment.
/// - `audio_channels`: per party per stream, frames, bytes, gaps and the first and last Zoom timestamp;
///   `audio_levels`: the peak level of each party in each second (Zoom time), for level graphs.
/// - v2 adds to `engagements` what the recordings page searches and shows: account, direction, queue, agents
///   (a JSON array of `{user_id, display_name}`), the caller's name and number, and the duration. They are
///   derived from the archived webhook payloads and participant events (`deriveCallDetails`), by the same SQL
///   for rows written from now on and, in the migration, for every call archived before.
enum ArchiveSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: engagements, streams, events, transcripts, audio statistics") { db in
            try db.execute(sql: """
                CREATE TABLE engagements (
                    engagement_id TEXT PRIMARY KEY NOT NULL,
                    first_seen_ms INTEGER NOT NULL,
                    last_seen_ms INTEGER NOT NULL,
                    started_ms INTEGER,
                    ended_ms INTEGER,
                    start_payload TEXT,
                    end_payload TEXT
                );
                CREATE TABLE streams (
                    stream_id TEXT PRIMARY KEY NOT NULL,
                    engagement_id TEXT NOT NULL REFERENCES engagements(engagement_id),
                    state TEXT NOT NULL,
                    first_seen_ms INTEGER NOT NULL,
                    server_host TEXT,
                    started_ms INTEGER,
                    connected_ms INTEGER,
                    media_params TEXT,
                    sample_rate INTEGER,
                    frame_ms INTEGER,
                    interruptions INTEGER NOT NULL DEFAULT 0,
                    stopped_ms INTEGER,
                    stop_code INTEGER,
                    stop_name TEXT,
                    failure TEXT
                );
                CREATE INDEX streams_by_engagement ON streams(engagement_id);
                CREATE TABLE events (
                    id INTEGER PRIMARY KEY,
                    seq INTEGER NOT NULL,
                    time_ms INTEGER NOT NULL,
                    type TEXT NOT NULL,
                    engagement_id TEXT NOT NULL,
                    stream_id TEXT,
                    channel TEXT,
                    zoom_timestamp INTEGER,
                    json TEXT NOT NULL,
                    pcm BLOB
                );
                CREATE INDEX events_by_engagement ON events(engagement_id, id);
                CREATE INDEX events_by_stream ON events(stream_id, id);
                CREATE TABLE transcripts (
                    id INTEGER PRIMARY KEY,
                    event_id INTEGER NOT NULL REFERENCES events(id),
                    engagement_id TEXT NOT NULL,
                    stream_id TEXT,
                    channel TEXT NOT NULL,
                    speaker TEXT,
                    text TEXT NOT NULL,
                    start_ms INTEGER,
                    end_ms INTEGER,
                    language TEXT,
                    time_ms INTEGER NOT NULL
                );
                CREATE INDEX transcripts_by_engagement ON transcripts(engagement_id, id);
                CREATE TABLE audio_channels (
                    stream_id TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    engagement_id TEXT NOT NULL,
                    user_name TEXT,
                    sample_rate INTEGER NOT NULL,
                    frames INTEGER NOT NULL,
                    bytes INTEGER NOT NULL,
                    gaps INTEGER NOT NULL,
                    gap_ms INTEGER NOT NULL,
                    first_timestamp INTEGER NOT NULL,
                    last_timestamp INTEGER NOT NULL,
                    PRIMARY KEY (stream_id, channel)
                ) WITHOUT ROWID;
                CREATE TABLE audio_levels (
                    stream_id TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    second INTEGER NOT NULL,
                    peak INTEGER NOT NULL,
                    PRIMARY KEY (stream_id, channel, second)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v2: call details for the recordings page") { db in
            try db.execute(sql: """
                ALTER TABLE engagements ADD COLUMN account_id TEXT;
                ALTER TABLE engagements ADD COLUMN direction TEXT;
                ALTER TABLE engagements ADD COLUMN queue_name TEXT;
                ALTER TABLE engagements ADD COLUMN agents TEXT;
                ALTER TABLE engagements ADD COLUMN caller_name TEXT;
                ALTER TABLE engagements ADD COLUMN caller_number TEXT;
                ALTER TABLE engagements ADD COLUMN duration_ms INTEGER;
                CREATE INDEX engagements_by_start ON engagements(coalesce(started_ms, first_seen_ms), engagement_id);
                CREATE INDEX transcripts_by_stream ON transcripts(stream_id, id);
                """)
            try db.execute(sql: deriveCallDetails + " WHERE 1")
        }
        return migrator
    }

    /// Deletes every call last seen before `cutoff` (ms since the epoch) and all its rows; returns how many calls
    /// and events went.
    static func deleteCalls(lastSeenBefore cutoff: Int64, _ db: Database) throws -> (calls: Int, events: Int) {
        try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS expired (engagement_id TEXT PRIMARY KEY) WITHOUT ROWID; DELETE FROM expired")
        try db.execute(sql: "INSERT INTO expired SELECT engagement_id FROM engagements WHERE last_seen_ms < ?", arguments: [cutoff])
        let calls = db.changesCount
        guard calls > 0 else { return (0, 0) }
        try db.execute(sql: """
            DELETE FROM audio_levels WHERE stream_id IN (SELECT stream_id FROM streams WHERE engagement_id IN expired);
            DELETE FROM audio_channels WHERE engagement_id IN expired;
            DELETE FROM transcripts WHERE engagement_id IN expired;
            DELETE FROM events WHERE engagement_id IN expired;
            """)
        let events = db.changesCount
        try db.execute(sql: """
            DELETE FROM streams WHERE engagement_id IN expired;
            DELETE FROM engagements WHERE engagement_id IN expired;
            DELETE FROM expired;
            """)
        return (calls, events)
    }

    /// `CallRole.customerModes` as an SQL list of string literals (the modes are constants, not input).
    private static let customerModes = CallRole.customerModes.sorted().map { "'\($0)'" }.joined(separator: ", ")

    /// Fills the v2 columns of `engagements` from what is archived: the engagement webhooks' payloads
    /// (`payload.account_id`, `object.direction`, `object.agents[]` or a single `object.user_id`) and the last
    /// participant event that describes the caller (a `CallRole.customerModes` mode: `display_name`, `phone_number`,
    /// `queue_name`). Append a `WHERE` clause.
    static let deriveCallDetails = """
        UPDATE engagements SET
            account_id = coalesce(json_extract(start_payload, '$.account_id'), json_extract(end_payload, '$.account_id'), account_id),
            direction = coalesce(json_extract(start_payload, '$.object.direction'), json_extract(end_payload, '$.object.direction'), direction),
            agents = coalesce(
                CASE WHEN json_type(start_payload, '$.object.agents') = 'array' THEN json_extract(start_payload, '$.object.agents') END,
                CASE WHEN json_type(start_payload, '$.object.user_id') = 'text' THEN json_array(json_object(
                    'user_id', json_extract(start_payload, '$.object.user_id'),
                    'display_name', json_extract(start_payload, '$.object.display_name'))) END,
                agents),
            caller_name = coalesce((SELECT json_extract(e.json, '$.participant.display_name') FROM events e
                WHERE e.engagement_id = engagements.engagement_id AND e.type = 'participant'
                  AND json_extract(e.json, '$.participant.participant_mode') IN (\(customerModes))
                  AND json_extract(e.json, '$.participant.display_name') IS NOT NULL ORDER BY e.id DESC LIMIT 1), caller_name),
            caller_number = coalesce((SELECT json_extract(e.json, '$.participant.phone_number') FROM events e
                WHERE e.engagement_id = engagements.engagement_id AND e.type = 'participant'
                  AND json_extract(e.json, '$.participant.participant_mode') IN (\(customerModes))
                  AND json_extract(e.json, '$.participant.phone_number') IS NOT NULL ORDER BY e.id DESC LIMIT 1), caller_number),
            queue_name = coalesce((SELECT json_extract(e.json, '$.participant.queue_name') FROM events e
                WHERE e.engagement_id = engagements.engagement_id AND e.type = 'participant'
                  AND json_extract(e.json, '$.participant.queue_name') IS NOT NULL ORDER BY e.id DESC LIMIT 1),
                json_extract(start_payload, '$.object.queue_name'), queue_name),
            duration_ms = CASE WHEN ended_ms IS NOT NULL THEN max(0, ended_ms - coalesce(started_ms, first_seen_ms)) END
        """
}
