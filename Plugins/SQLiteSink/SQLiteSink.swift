import Foundation
import GRDB
import RelayCore
import Synchronization

/// Archives engagements, streams, events, transcripts and per-party audio statistics in SQLite (README.md, "Sinks"; docs/recordings.md),
/// for integrators to query and for `rtms-relay replay`.
///
/// Each batch the hub hands over that holds rows to archive becomes one transaction, written on GRDB's writer
/// thread. Audio without `store_audio` only updates in-memory statistics, written with the next such batch or
/// on the next tick (every second), so the sink's cost per audio frame is a few additions. With WAL and
/// `synchronous = NORMAL` (see `ArchiveDatabase`), a crash loses at most the batch being written and the last
/// second of audio statistics.
public actor SQLiteSink: SinkPlugin, CallArchiveSink {
    public static let typeName = "sqlite"
    public static let summary = "archives events, transcripts and audio statistics (and optionally audio) in a SQLite database"
    /// Storage: an overflowing queue goes to disk rather than losing events.
    public static let defaultOverflow = QueuePolicy.Overflow.spill

    private let options: SQLiteSinkOptions
    private let context: SinkContext
    private var pool: DatabasePool?
    private var statistics = AudioStatisticsTracker()
    private let encoder: JSONEncoder
    /// No write is tried before this after a failure, so a full disk costs one failed transaction a second.
    private var retryAt: ContinuousClock.Instant?
    /// Rows kept while the archive cannot be written; beyond this the backlog is given up (and reported).
    static let maxUnwrittenRows = 500_000
    static let retryInterval = Duration.seconds(1)

    /// The archive as the recordings page reads it.
    public nonisolated let callArchive: any CallArchive
    private var retentionSchedule = Retention.Schedule()

    public init(options: SQLiteSinkOptions, context: SinkContext) {
        callArchive = ArchiveCatalog(path: options.path)
        self.options = options
        self.context = context
        encoder = StreamEvent.jsonEncoder(pcm: .summary)
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

    /// Rows waiting to be written: audio statistics and "last seen" times until the next tick or the next batch
    /// with rows (upserting them per batch cost several statements per frame with a thousand calls), and
    /// everything a failed write left (disk full, read-only, locked) until a write works again.
    private var pending = ArchiveBatch()

    /// Writes the tick's statistics, and retries a failed write once a second without waiting for an event.
    public nonisolated var tickInterval: Duration? { Self.retryInterval }

    /// Set when a background write ends; its outcome is read by `settle()`.
    private final class WriteDone: Sendable {
        let flag = Atomic<Bool>(false)
    }

    /// The tick's write, running in the background so the sink goes on taking events meanwhile: with a
    /// thousand parties a statistics transaction (or a WAL checkpoint behind it) can take long enough to
    /// overflow the queue if the sink waited.
    private var inFlight: (task: Task<Void, any Error>, batch: ArchiveBatch, done: WriteDone)?

    /// Writes the batch's rows in one transaction (with whatever is pending). When that fails the rows are kept
    /// and written, together with later batches, on the first write that works, retried once a second; the sink
    /// reports degraded meanwhile and does not throw, so the hub's queue keeps moving.
    public func consume(_ events: [StreamEvent]) async throws {
        guard pool != nil else { throw ArchiveError.noArchive(options.path) }
        try prepare(events, into: &pending)
        // Only audio without `store_audio`: nothing a reader needs at once; the tick writes the statistics.
        guard !pending.events.isEmpty else { return }
        try await settle()
        if let retryAt, ContinuousClock.now < retryAt { return try checkBacklog() }
        try await flush()
    }

    public func tick() async throws {
        if let inFlight, !inFlight.done.flag.load(ordering: .acquiring) { return }
        try await settle()
        if let retryAt, ContinuousClock.now < retryAt { return }
        if let cutoff = options.retention.cutoff(), retentionSchedule.due() { await sweep(before: cutoff) }
        guard let pool, let batch = takePending() else { return }
        pending = ArchiveBatch()
        let done = WriteDone()
        let task = Task {
            defer { done.flag.store(true, ordering: .releasing) }
            try await pool.write { db in try batch.write(db) }
        }
        inFlight = (task, batch, done)
    }

    public func finish() async throws {
        // One last attempt for a backlog (the disk may have room again); what still fails is reported.
        try await settle()
        retryAt = nil
        if pool != nil { try await flush() }
        if !pending.events.isEmpty {
            context.logger.error("archive closed with events it could not write", metadata: ["events": "\(pending.events.count)", "path": "\(options.path)"])
        }
        try pool?.close()
        pool = nil
    }

    /// Deletes the calls last seen before `cutoff` (`retention.days`), with all their rows, and logs what went.
    /// A failure is logged and tried again at the next sweep.
    private func sweep(before cutoff: Int64) async {
        guard let pool else { return }
        do {
            let (calls, events) = try await pool.write { db in try ArchiveSchema.deleteCalls(lastSeenBefore: cutoff, db) }
            guard calls > 0 else { return }
            context.logger.info("retention: deleted old calls", metadata: [
                "calls": "\(calls)", "events": "\(events)", "days": "\(options.retention.days ?? 0)", "path": "\(options.path)",
            ])
        } catch {
            context.logger.error("retention: cannot delete old calls", metadata: ["error": "\(error)", "path": "\(options.path)"])
        }
    }

    /// Writes what is pending as one transaction; on failure keeps it for the retry.
    private func flush() async throws {
        guard let pool else { throw ArchiveError.noArchive(options.path) }
        guard let batch = takePending() else { return }
        do {
            try await pool.write { db in try batch.write(db) }
            pending = ArchiveBatch()
            written()
        } catch {
            failed(error)
            try checkBacklog()
        }
    }

    /// Waits for the background write, if any, and takes its outcome: on failure its rows go back in front of
    /// what gathered since.
    private func settle() async throws {
        guard let (task, batch, _) = inFlight else { return }
        inFlight = nil
        do {
            try await task.value
            written()
        } catch {
            failed(error)
            var kept = batch
            kept.append(pending)
            pending = kept
            try checkBacklog()
        }
    }

    /// Everything to write now: what is pending plus the statistics gathered since; nil when there is nothing.
    private func takePending() -> ArchiveBatch? {
        let (channels, levels) = statistics.take()
        pending.append(ArchiveBatch(channels: channels, levels: levels))
        return pending.isEmpty ? nil : pending
    }

    private func written() {
        retryAt = nil
        if context.health != .ok { context.reportHealth(.ok) }
    }

    private func failed(_ error: any Error) {
        report(error, doing: "write to")
        retryAt = .now + Self.retryInterval
    }

    /// A backlog beyond `maxUnwrittenRows` is given up with an error (the hub counts those events as failed)
    /// rather than growing memory without bound.
    private func checkBacklog() throws {
        guard pending.rowCount > Self.maxUnwrittenRows else { return }
        let message = "gave up \(pending.events.count) events that could not be written to \(options.path) (backlog over \(Self.maxUnwrittenRows) rows)"
        pending = ArchiveBatch()
        context.logger.error("archive backlog dropped", metadata: ["error": "\(message)"])
        context.reportHealth(.degraded(message))
        throw ArchiveError.backlogDropped(message)
    }

    private func report(_ error: any Error, doing: String) {
        let message = "cannot \(doing) \(options.path): \(error)"
        context.logger.error("archive failed", metadata: ["error": "\(message)"])
        context.reportHealth(.degraded(message))
    }

    private func prepare(_ events: [StreamEvent], into batch: inout ArchiveBatch) throws {
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
            case .audioGap(let gap):
                channel = gap.channel
                zoomTimestamp = gap.fromTimestamp
                effect = .none
            case .participant, .streamRequested:
                effect = .none
            }
            batch.events.append(ArchiveBatch.EventRow(
                seq: Int64(bitPattern: event.seq), timeMillis: event.timeMillis, type: event.type.rawValue,
                engagementID: event.engagementID, streamID: event.streamID, channel: channel,
                zoomTimestamp: zoomTimestamp, json: try json(event), pcm: pcm, effect: effect
            ))
        }
    }

    private func json(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
