import Foundation
import RelayCore

/// The files of one stream: a `ChannelTrack` per party, the optional `StereoMixer`, and `stream.json`.
///
/// Every file shares the stream's clock: sample 0 is the first audio timestamp Zoom sent on any channel,
/// so a party who was muted at first starts with silence and the files line up with each other.
final class StreamRecording {
    let engagementID: String
    let streamID: String?
    let directory: String
    let sampleRate: Int
    let channels: Int
    let frameMilliseconds: Int
    private var tracks: [String: ChannelTrack] = [:]
    private var order: [String] = []
    private let mixer: StereoMixer?
    private var originTimestamp: Int64?
    private let startedAt: Int64
    private var stoppedAt: Int64?
    private var stopReason: StopReason?
    private var stopMessage: String?
    private var state = "recording"
    private var unsupportedFrames = 0
    /// Which parties get a file: the first `max_channels` channel ids of the stream.
    private var admission: ChannelAdmission
    /// Frames dropped because their channel came after the first `max_channels`.
    var refusedChannelFrames: Int { admission.refusedFrames }
    /// Something a reader of `stream.json` must see soon changed (a party, a name, the state).
    private var manifestDirty = true
    /// Only durations and statistics moved on: rewritten every `progressInterval`, not every tick.
    private var progressDirty = false
    private var manifestWrittenAt: ContinuousClock.Instant?
    private static let progressInterval: Duration = .seconds(10)
    private(set) var manifestRetry = DiskRetry()
    private let tolerance: Int64

    /// Which of the sink's quarter-second ticks looks after this recording.
    let tickSlot: Int

    /// `resuming`: an earlier run's recording of this stream in `directory`, continued in the same files (its format,
    /// clock, parties and statistics); `format` and `startedAt` are then those of the earlier run.
    init(engagementID: String, streamID: String?, directory: String, format: AudioFormat, frameMilliseconds: Int, mix: WAVSinkOptions.Mix,
         maxChannels: Int = ChannelAdmission.defaultLimit, startedAt: Int64, tickSlot: Int = 0, resuming: ResumePoint? = nil) {
        let manifest = resuming?.manifest
        let format = resuming.map { AudioFormat(sampleRate: $0.manifest.sampleRate, channels: $0.channels) } ?? format
        self.tickSlot = tickSlot
        self.engagementID = engagementID
        self.streamID = streamID
        self.directory = directory
        self.sampleRate = format.sampleRate
        self.channels = format.channels
        self.frameMilliseconds = manifest?.frameMs ?? frameMilliseconds
        self.startedAt = manifest.flatMap { EventClock.parseISO8601($0.startedAt) } ?? startedAt
        admission = ChannelAdmission(limit: maxChannels, admitted: manifest?.channels.map(\.channel) ?? [], refusedFrames: manifest?.refusedChannelFrames ?? 0)
        // Half a frame, and never more than a second whatever `frameMilliseconds` an event claims.
        let tolerance = Int64(min(self.frameMilliseconds.multipliedSaturated(by: format.sampleRate) / 2000, max(format.sampleRate, 0)))
        self.tolerance = tolerance
        guard mix == .stereo && format.channels == 1 else {
            mixer = nil
            if let resuming { resume(resuming) }
            return
        }
        let path = directory + "/mixed.wav"
        if let resuming, let mixed = resuming.manifest.mixed, let frames = resuming.frames[mixed.file] {
            let lanes = [mixed.left, mixed.right].compactMap { $0 }
            let ends = lanes.map { lane in resuming.manifest.channels.first { $0.channel == lane }.flatMap { resuming.frames[$0.file] } ?? 0 }
            mixer = StereoMixer(path: path, directory: directory, sampleRate: format.sampleRate, tolerance: tolerance, resuming: (lanes, ends, frames))
        } else {
            mixer = StereoMixer(path: path, directory: directory, sampleRate: format.sampleRate, tolerance: tolerance)
        }
        if let resuming { resume(resuming) }
    }

    /// Takes over the parties, clock and counters of the earlier run's recording.
    private func resume(_ point: ResumePoint) {
        originTimestamp = point.manifest.originTimestamp
        unsupportedFrames = point.manifest.unsupportedFrames
        for channel in point.manifest.channels where tracks[channel.channel] == nil && admission.admitted.contains(channel.channel) {
            let track = ChannelTrack(
                channel: channel.channel, path: "\(directory)/\(channel.file)", directory: directory, sampleRate: sampleRate, channels: channels,
                tolerance: tolerance, resuming: (point.frames[channel.file] ?? 0, channel.statistics)
            )
            track.userName = channel.userName
            tracks[channel.channel] = track
            order.append(channel.channel)
        }
    }

    /// Places one frame in its party's file (and the mix). False when the frame was dropped because its channel
    /// came after the first `max_channels` of the stream.
    @discardableResult
    func add(_ frame: AudioFrame, now: ContinuousClock.Instant) -> Bool {
        guard frame.format.codec == .l16, WAVFile.canWrite(frame.format) else {
            unsupportedFrames += 1
            manifestDirty = true
            return true
        }
        guard admission.admit(frame.channel) else {
            manifestDirty = manifestDirty || admission.refusedForTheFirstTime
            progressDirty = true
            return false
        }
        let track = track(for: frame.channel)
        if let userName = frame.userName, track.userName != userName {
            track.userName = userName
            manifestDirty = true
        }
        guard frame.format.sampleRate == sampleRate, frame.format.channels == channels else {
            track.recordMismatch()
            return true
        }
        var position: Int64?
        if frame.timestamp > 0 {
            let origin = originTimestamp ?? frame.timestamp
            originTimestamp = origin
            // Saturating: ingest keeps timestamps within a day of the origin, but replayed or custom events may not.
            let offset = frame.timestamp.subtractingSaturated(origin).multipliedSaturated(by: Int64(sampleRate)) / 1000
            // A frame the files cannot hold (RIFF sizes are 32-bit; mixed.wav is stereo) is dropped; its time stays silence.
            guard WAVFile.positions(channels: mixer == nil ? channels : 2).contains(offset) else {
                track.recordOutOfRange()
                progressDirty = true
                return true
            }
            position = offset
        }
        track.add(frame.pcm, position: position, timestamp: frame.timestamp, now: now)
        mixer?.add(channel: frame.channel, pcm: frame.pcm, position: position, now: now)
        progressDirty = true
        return true
    }

    private func track(for channel: String) -> ChannelTrack {
        if let track = tracks[channel] { return track }
        let used = Set(tracks.values.map { ($0.path as NSString).lastPathComponent.lowercased() })
        var name = SafeFileName.make(channel, reserved: ["mixed"])
        if used.contains(name.lowercased() + ".wav") { name += "-" + SafeFileName.hash(channel + "#\(order.count)") }
        let track = ChannelTrack(
            channel: channel, path: "\(directory)/\(name).wav", directory: directory,
            sampleRate: sampleRate, channels: channels, tolerance: tolerance
        )
        tracks[channel] = track
        order.append(channel)
        manifestDirty = true
        return track
    }

    /// After a batch: writes what the batch gathered once a party has half a second of it (the tick writes
    /// the rest every second, so a crash loses at most a second of what reached the sink).
    func flush(now: ContinuousClock.Instant) {
        // The manifest goes to disk with the recording's first batch, before any of its files: a crash then always
        // leaves the clock and the parties with the audio, so the next run can continue the files (`ResumePoint`).
        if manifestWrittenAt == nil { writeManifest(now: now) }
        let halfSecond = sampleRate.multipliedSaturated(by: channels)   // bytes of 16-bit samples in 0.5 s
        for channel in order { tracks[channel]!.flush(now: now, minimumBytes: halfSecond) }
        mixer?.flush(now: now, minimumBytes: sampleRate.multipliedSaturated(by: 2))
    }

    /// Whether any file of the recording is failing to write (cheap; `failures` says which).
    var hasFailures: Bool {
        manifestRetry.failure != nil || mixer?.retry.failure != nil || tracks.values.contains { $0.retry.failure != nil }
    }

    /// Once a second: header sizes, and the manifest if something changed (durations: every 10 s; with a
    /// thousand calls a manifest per stream per second was a tenth of the relay's CPU).
    func tick(now: ContinuousClock.Instant) {
        for channel in order { tracks[channel]!.patchHeader(now: now) }
        mixer?.patchHeader(now: now)
        let progressDue = progressDirty && manifestWrittenAt.map { now - $0 >= Self.progressInterval } ?? true
        if manifestDirty || progressDue { writeManifest(now: now) }
    }

    /// Finalises every file and the manifest. `reason` nil means the relay shut down before Zoom stopped.
    func close(at time: Int64, reason: StopReason?, message: String? = nil, now: ContinuousClock.Instant) {
        state = reason == nil && message == nil ? "closed" : "stopped"
        stoppedAt = time
        stopReason = reason
        stopMessage = message
        for channel in order { tracks[channel]!.close(now: now) }
        mixer?.close(now: now)
        writeManifest(now: now, force: true)
    }

    /// Errors currently stopping writes, for `/health`.
    var failures: [WAVWriteError] {
        order.compactMap { tracks[$0]!.retry.failure } + [mixer?.retry.failure, manifestRetry.failure].compactMap { $0 }
    }

    private func writeManifest(now: ContinuousClock.Instant, force: Bool = false) {
        guard force || manifestRetry.mayWrite(now: now) else { return }
        let manifest = StreamManifest(
            state: state, engagementId: engagementID, streamId: streamID, sampleRate: sampleRate,
            frameMs: frameMilliseconds, originTimestamp: originTimestamp,
            startedAt: EventClock.iso8601(millis: startedAt), stoppedAt: stoppedAt.map(EventClock.iso8601(millis:)),
            stopReason: stopReason, stopMessage: stopMessage,
            channels: order.map { channel in
                let track = tracks[channel]!
                return StreamManifest.Channel(
                    channel: channel, userName: track.userName, file: (track.path as NSString).lastPathComponent,
                    durationMs: track.durationMs, statistics: track.statistics
                )
            },
            mixed: mixer.map { StreamManifest.Mixed(file: "mixed.wav", left: $0.lanes.first, right: $0.lanes.dropFirst().first) },
            unsupportedFrames: unsupportedFrames, refusedChannelFrames: admission.refusedFrames
        )
        do {
            try RecordingFiles.makeDirectories(directory)
            try RecordingFiles.writeAtomically(manifest.encoded(), to: directory + "/stream.json")
            manifestRetry.succeeded()
            manifestDirty = false
            progressDirty = false
            manifestWrittenAt = now
        } catch {
            manifestRetry.failed(error, now: now)
        }
    }
}
