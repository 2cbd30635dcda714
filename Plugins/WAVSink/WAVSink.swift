import RelayCore

/// Writes one WAV file per party per stream, in wall-clock time, for QA teams (README.md, "Sinks"; docs/recordings.md).
///
/// Frames are placed by Zoom's timestamps, so silence fills the time a party sent nothing, late frames land
/// in their slot and duplicates are dropped. Samples are written every half second of a party; headers are
/// patched every second (`tick()`), so a crash leaves playable files missing at most the last second, and the
/// next start repairs them (`RecordingRepair`): headers then declare every whole sample on disk.
/// Disk trouble never stops the stream or other sinks: the sink reports it on `/health`, drops audio while
/// it lasts (its time becomes silence) and resumes by itself.
public actor WAVSink: SinkPlugin, AudioFileSink {
    public static let typeName = "wav"
    public static let summary = "one WAV per party per stream (wall-clock timed, optional stereo mix) with a stream.json manifest"
    /// Storage: an overflowing queue goes to disk rather than losing events.
    public static let defaultOverflow = QueuePolicy.Overflow.spill

    private struct StreamKey: Hashable {
        var engagementID: String
        var streamID: String?
    }

    private let options: WAVSinkOptions
    private let context: SinkContext
    private var recordings: [StreamKey: StreamRecording] = [:]
    private var parameters: [StreamKey: MediaParameters] = [:]
    /// Streams already stopped, so a straggling frame never reopens (and overwrites) their files.
    private var stopped: Set<StreamKey> = []
    private var stoppedOrder: [StreamKey] = []
    private var reportedFailures: [String: String] = [:]

    private var retentionSchedule = Retention.Schedule()
    /// Whether `start()` already ran the crash repair (only the process's first start: a restart after a sink
    /// error has recordings open, and the repair must never touch a file being written).
    private var repairedAtStart = false

    public init(options: WAVSinkOptions, context: SinkContext) {
        self.options = options
        self.context = context
    }

    /// The recordings this sink wrote, for the recordings page.
    public nonisolated var audioFiles: any AudioFiles { folders }
    private nonisolated var folders: RecordingFolders { RecordingFolders(directory: options.directory) }

    /// Each recording is ticked once a second (header sizes, pending samples, manifest), a quarter of them every
    /// 250 ms: ticking a thousand streams' files at once held the sink up long enough to show in the p99.
    public nonisolated var tickInterval: Duration? { .milliseconds(250) }
    private static let tickSlots = 4
    private var tickCount = 0
    private var recordingsOpened = 0
    /// Audio frames taken from the queue (`audio_frames` on `/health`): each is in its file, or waits in memory
    /// for at most a second (half a second of a party, or the next tick), or was dropped and counted in `stream.json`.
    private var audioFrames: UInt64 = 0

    // The lifecycle methods repeat the protocol's exact `async throws` signatures: a lighter signature would
    // leave `Sink`'s no-op default visible, and a direct call on `WAVSink` would pick the default.

    /// On the first start only, before any file is opened: repairs what a crash left in the directory (headers
    /// lagging their data, manifests still `recording`; `RecordingRepair`). Problems are warnings, never fatal.
    public func start() async throws {
        guard !repairedAtStart else { return }
        repairedAtStart = true
        let report = RecordingRepair.run(directory: options.directory)
        for file in report.repaired {
            context.logger.info("repaired a WAV header left behind by a crash", metadata: [
                "path": "\(file.path)", "data_bytes_before": "\(file.dataBytesBefore)", "data_bytes_after": "\(file.dataBytesAfter)",
            ])
        }
        for problem in report.problems {
            context.logger.warning("cannot repair a recording; left alone", metadata: ["path": "\(problem.path)", "reason": "\(problem.reason)"])
        }
        context.logger.info("recordings checked for crash damage", metadata: [
            "directory": "\(options.directory)", "wav_files": "\(report.scannedFiles)", "repaired": "\(report.repaired.count)",
            "manifests_closed": "\(report.closedManifests.count)", "problems": "\(report.problems.count)",
        ])
    }

    public func consume(_ events: [StreamEvent]) async throws {
        let now = ContinuousClock.now
        let audioFramesBefore = audioFrames
        var touched: [ObjectIdentifier: StreamRecording] = [:]
        for event in events {
            let key = StreamKey(engagementID: event.engagementID, streamID: event.streamID)
            switch event.kind {
            case .audio(let frame):
                audioFrames &+= 1
                guard let recording = openRecording(for: key, frame: frame, time: event.timeMillis) else { continue }
                if !recording.add(frame, now: now), recording.refusedChannelFrames == 1 {
                    context.logger.warning("more channels than max_channels in one stream; their frames are dropped (counted in stream.json)",
                                           metadata: ["path": "\(recording.directory)", "max_channels": "\(options.maxChannels)", "channel": "\(frame.channel)"])
                }
                touched[ObjectIdentifier(recording)] = recording
            case .streamConnected(let media):
                parameters[key] = media
            case .streamStopped(let reason):
                close(key, at: event.timeMillis, reason: reason, now: now)
            case .streamFailed(let statusCode, let message):
                close(key, at: event.timeMillis, reason: nil, message: statusCode.map { "\($0): \(message)" } ?? message, now: now)
            case .engagementEnded:
                for open in recordings.keys where open.engagementID == event.engagementID {
                    close(open, at: event.timeMillis, reason: nil, message: "engagement ended", now: now)
                }
            default:
                break
            }
        }
        for recording in touched.values { recording.flush(now: now) }
        if audioFramesBefore != audioFrames { context.reportCount("audio_frames", audioFrames) }
        // Walking every recording's files per batch showed in profiles; only look when something failed.
        if !reportedFailures.isEmpty || touched.values.contains(where: \.hasFailures) { updateHealth() }
    }

    public func tick() async throws {
        let now = ContinuousClock.now
        tickCount += 1
        let slot = tickCount % Self.tickSlots
        for recording in recordings.values where recording.tickSlot == slot { recording.tick(now: now) }
        if slot == 0 { updateHealth() }
        if let cutoff = options.retention.cutoff(), retentionSchedule.due(now: now) { sweep(before: cutoff) }
    }

    /// Deletes recordings older than `retention.days` (never one being written) and logs what went.
    func sweep(before cutoff: Int64) {
        let deleted = folders.delete(before: cutoff, except: Set(recordings.values.map(\.directory)))
        guard deleted.streams > 0 else { return }
        context.logger.info("retention: deleted old recordings", metadata: [
            "streams": "\(deleted.streams)", "bytes": "\(deleted.bytes)", "days": "\(options.retention.days ?? 0)", "directory": "\(options.directory)",
        ])
    }

    public func finish() async throws {
        let now = ContinuousClock.now
        for key in Array(recordings.keys) { close(key, at: EventClock.nowMillis(), reason: nil, now: now) }
        updateHealth()
    }

    private func openRecording(for key: StreamKey, frame: AudioFrame, time: Int64) -> StreamRecording? {
        if let recording = recordings[key] { return recording }
        guard !stopped.contains(key) else { return nil }
        let directory = folders.streamFolder(engagementID: key.engagementID, streamID: key.streamID)
        let media = parameters[key]
        let format = media.map { $0.audio.codec == .l16 && WAVFile.canWrite($0.audio) } == true ? media!.audio : frame.format
        // A stream an earlier run recorded (its spilled events delivered now, or the stream taken up again after a
        // restart) continues in its files; anything else already there is moved aside, never overwritten.
        var resuming: ResumePoint?
        switch ResumePoint.read(directory: directory, sampleRate: format.sampleRate, channels: format.channels) {
        case .none:
            break
        case .resumable(let point):
            resuming = point
            context.logger.notice("continuing a recording an earlier run of the relay left", metadata: [
                "path": "\(directory)", "state_before": "\(point.manifest.state)",
            ])
        case .refused(let reason):
            do {
                if let movedTo = try RecordingFiles.moveAside(directory) {
                    context.logger.warning("an earlier recording of this stream was moved aside", metadata: ["path": "\(movedTo)", "reason": "\(reason)"])
                }
            } catch {
                context.logger.error("cannot move an earlier recording aside; it will be overwritten", metadata: ["error": "\(error)"])
            }
        }
        let recording = StreamRecording(
            engagementID: key.engagementID, streamID: key.streamID, directory: directory, format: format,
            frameMilliseconds: media?.frameMilliseconds ?? 20, mix: options.mix, maxChannels: options.maxChannels, startedAt: time,
            tickSlot: recordingsOpened % Self.tickSlots, resuming: resuming
        )
        recordingsOpened += 1
        recordings[key] = recording
        context.logger.info("recording", metadata: ["path": "\(directory)"])
        return recording
    }

    private func close(_ key: StreamKey, at time: Int64, reason: StopReason?, message: String? = nil, now: ContinuousClock.Instant) {
        parameters[key] = nil
        guard let recording = recordings.removeValue(forKey: key) else { return }
        recording.close(at: time, reason: reason, message: message, now: now)
        stopped.insert(key)
        stoppedOrder.append(key)
        if stoppedOrder.count > 4096 { stopped.remove(stoppedOrder.removeFirst()) }
        context.logger.info("recording finished", metadata: ["path": "\(recording.directory)"])
    }

    /// Reports write failures on `/health` and in the log once when they start and once when they end.
    private func updateHealth() {
        var current: [String: String] = [:]
        for recording in recordings.values {
            for failure in recording.failures { current[failure.path] = failure.description }
        }
        for (path, description) in current where reportedFailures[path] != description {
            context.logger.error("cannot write; dropping audio until it works again", metadata: ["error": "\(description)"])
        }
        for path in reportedFailures.keys where current[path] == nil {
            context.logger.notice("writing again", metadata: ["path": "\(path)"])
        }
        reportedFailures = current
        if !current.isEmpty {
            // `/health` is open to anyone: it names the folder and the reason, never a file (whose path holds
            // engagement and stream ids). The log above names each file.
            let reasons = Set(recordings.values.flatMap { $0.failures.map(\.reason) }).sorted().joined(separator: "; ")
            let files = current.count == 1 ? "1 file" : "\(current.count) files"
            context.reportHealth(.degraded("cannot write \(files) in \(options.directory): \(reasons); audio is dropped until the disk accepts writes again"))
        } else {
            context.reportHealth(.ok)
        }
    }
}
