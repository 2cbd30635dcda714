import Foundation
import GRDB
import RelayCore

/// Archives engagements, streams, events, transcripts and per-party audio statistics in SQLite (SPEC §7),
/// for integrators to query and for `rtms-relay replay`.
///
/// Each batch the hub hands over becomes one transaction, written on GRDB's writer thread, so the sink's
/// cost per audio frame is a few statistics updates unless `store_audio` asks for the PCM too. With WAL and
/// `synchronous = NORMAL` (see `ArchiveDatabase`), a crash loses at most the batch being written.
public actor SQLiteSink: SinkPlugin {
    public static let typeName = "sqlite"
    public static let summary = "archives events, transcripts and audio statistics (and optionally audio) in a SQLite database"

    private let options: SQLiteSinkOptions
    private let context: SinkContext
    private var pool: DatabasePool?
    private var statistics = AudioStatisticsTracker()
    private let encoder: JSONEncoder
    /// What could not be written yet (disk full, read-only, database locked): written before the next batch.
    private var unwritten: ArchiveBatch?
    /// No write is tried before this after a failure, so a full disk costs one failed transaction a second.
    private var retryAt: ContinuousClock.Instant?
    /// Rows kept while the archive cannot be written; beyond this the backlog is given up (and reported).
    static let maxUnwrittenRows = 500_000
    static let retryInterval = Duration.seconds(1)

    public init(options: SQLiteSinkOptions, context: SinkContext) {
        self.options = options
        self.context = context
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.userInfo[StreamEvent.pcmEncodingKey] = StreamEvent.PCMEncoding.summary
    }

    public func start() async throws {
        guard pool == nil else { return }
        do {
            pool = try ArchiveDatabase.open(path: options.path)
        } catch {
            report(error, doing: "open")
            throw error
        }
    }

    /// Writes the batch in one transaction. When that fails (disk full, read-only, locked) the rows are kept and
    /// written, together with later batches, on the first write that works: retried once a second, from here or
    /// from `tick()`. The sink reports degraded meanwhile and does not throw, so the hub's queue keeps moving.
    public func consume(_ events: [StreamEvent]) async throws {
        guard pool != nil else { throw ArchiveError.noArchive(options.path) }
        var batch = try prepare(events)
        if var earlier = unwritten.take() {
            earlier.append(batch)
            batch = earlier
        }
        guard !batch.isEmpty else { return }
        if let retryAt, ContinuousClock.now < retryAt {
            try keep(batch)
            return
        }
        try await write(batch)
    }

    /// Retries what could not be written, when the retry is due (no need to wait for the next event).
    public nonisolated var tickInterval: Duration? { Self.retryInterval }

    public func tick() async throws {
        guard let batch = unwritten, retryAt.map({ ContinuousClock.now >= $0 }) ?? true else { return }
        unwritten = nil
        try await write(batch)
    }

    public func finish() async throws {
        // One last attempt for a backlog (the disk may have room again); what still fails is reported.
        if let batch = unwritten.take() {
            retryAt = nil
            try await write(batch)
            if let lost = unwritten.take() {
                context.logger.error("archive closed with events it could not write", metadata: ["events": "\(lost.events.count)", "path": "\(options.path)"])
            }
        }
        try pool?.close()
        pool = nil
    }

    private func write(_ batch: ArchiveBatch) async throws {
        guard let pool else { throw ArchiveError.noArchive(options.path) }
        do {
            try await pool.write { db in try batch.write(db) }
            retryAt = nil
            if context.health != .ok { context.reportHealth(.ok) }
        } catch {
            report(error, doing: "write to")
            retryAt = .now + Self.retryInterval
            try keep(batch)
        }
    }

    /// Holds a batch for the next attempt; a backlog beyond `maxUnwrittenRows` is given up with an error (the hub
    /// counts those events as failed) rather than growing memory without bound.
    private func keep(_ batch: ArchiveBatch) throws {
        guard batch.rowCount <= Self.maxUnwrittenRows else {
            let message = "gave up \(batch.events.count) events that could not be written to \(options.path) (backlog over \(Self.maxUnwrittenRows) rows)"
            context.logger.error("archive backlog dropped", metadata: ["error": "\(message)"])
            context.reportHealth(.degraded(message))
            throw ArchiveError.backlogDropped(message)
        }
        unwritten = batch
    }

    private func report(_ error: any Error, doing: String) {
        let message = "cannot \(doing) \(options.path): \(error)"
        context.logger.error("archive failed", metadata: ["error": "\(message)"])
        context.reportHealth(.degraded(message))
    }

    private func prepare(_ events: [StreamEvent]) throws -> ArchiveBatch {
        var batch = ArchiveBatch()
        for event in events {
            batch.saw(engagementID: event.engagementID, streamID: event.streamID, at: event.timeMillis)
            var pcm: Data?
            var channel: String?
            var zoomTimestamp: Int64?
            let effect: ArchiveBatch.Effect
            switch event.kind {
            case .audio(let frame):
                statistics.record(frame, engagementID: event.engagementID, streamID: event.streamID)
                guard options.storeAudio else { continue }
                pcm = Data(frame.pcm.readableBytesView)
                channel = frame.channel
                zoomTimestamp = frame.timestamp
                effect = .none
            case .engagementStarted(let payload):
                effect = .engagementStarted(payload: try json(payload))
            case .engagementEnded(let payload):
                effect = .engagementEnded(payload: try json(payload))
            case .streamStarted(let host):
                effect = .streamStarted(serverHost: host)
            case .streamConnected(let media):
                effect = .streamConnected(mediaParams: try json(media), sampleRate: media.audio.sampleRate, frameMilliseconds: media.frameMilliseconds)
            case .streamInterrupted:
                effect = .streamInterrupted
            case .streamResumed, .streamUnpaused:
                effect = .streamState("connected")
            case .streamPaused:
                effect = .streamState("paused")
            case .streamStopped(let reason):
                statistics.forget(streamID: event.streamID)
                effect = .streamStopped(code: reason.code, name: reason.name)
            case .streamFailed(let statusCode, let message):
                statistics.forget(streamID: event.streamID)
                effect = .streamFailed(message: statusCode.map { "\($0): \(message)" } ?? message)
            case .transcript(let transcript):
                channel = transcript.channel
                effect = .transcript(transcript)
            case .participant, .streamRequested:
                effect = .none
            }
            batch.events.append(ArchiveBatch.EventRow(
                seq: Int64(bitPattern: event.seq), timeMillis: event.timeMillis, type: event.type.rawValue,
                engagementID: event.engagementID, streamID: event.streamID, channel: channel,
                zoomTimestamp: zoomTimestamp, json: try json(event), pcm: pcm, effect: effect
            ))
        }
        (batch.channels, batch.levels) = statistics.take()
        return batch
    }

    private func json(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
