import GRDB

/// The archive's tables, as a list of migrations: new versions append a migration and never edit an old one,
/// so an archive written by any earlier relay opens in a newer one.
///
/// - `engagements`, `streams`: one row each, updated as their events arrive (state, times, stop reason).
/// - `events`: every event in archive order, typed columns for querying and the stable JSON form (SPEC §4.1)
///   for everything else; audio rows only with `store_audio`, with the PCM as a raw blob (never base64).
/// - `transcripts`: one row per segment.
/// - `audio_channels`: per party per stream, frames, bytes, gaps and the first and last Zoom timestamp;
///   `audio_levels`: the peak level of each party in each second (Zoom time), for level graphs.
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
        return migrator
    }
}
