import Foundation
import NIOCore
import RelayCore

/// The agent page's live feed (README.md, "Sinks"): turns stream events into Server-Sent Events for `GET /api/events`.
///
/// Three kinds of message, each with an `id:`:
/// - `event: status` — lines for people, from `StatusLineBuilder` (`Starting RTMS connection`,
///   `Received 50 audio chunks`, `RTMS stopped` …);
/// - `event: stream` — every non-audio event in its JSON form (docs/writing-a-sink.md, "1. What a sink receives");
/// - `event: level` — per stream, each channel's chunk count and audio level, at most every
///   `level_interval_ms`. Audio reaches browsers only this way: never as PCM.
///
/// The sink offers its `EventBroadcaster` as an `EventFeedSink`; the HTTP server finds it by that protocol and
/// mounts it, so neither module imports the other.
public actor WebSink: SinkPlugin, EventFeedSink, LiveViewSink {
    public static let typeName = "web"
    public static let summary = "live status lines, events and audio levels for the agent page (Server-Sent Events at /api/events)"

    /// What the browsers subscribe to.
    public nonisolated let broadcaster: EventBroadcaster
    private var statusLines: StatusLineBuilder
    private var meters: [String: StreamMeter] = [:]
    private let heartbeatInterval: Duration
    private let levelInterval: Duration
    private var lastHeartbeat = ContinuousClock.now
    /// `event: stream` data: the event JSON, with `pcm_bytes` in place of audio.
    private let encoder = StreamEvent.jsonEncoder(pcm: .summary)

    public init(options: WebSinkOptions, context: SinkContext) throws {
        try options.validate()
        broadcaster = EventBroadcaster(replayCapacity: options.replayBuffer, clientBuffer: options.clientBuffer)
        statusLines = StatusLineBuilder(everyChunks: options.statusEveryChunks)
        heartbeatInterval = .milliseconds(Int64(options.heartbeatSeconds * 1000))
        levelInterval = .milliseconds(options.levelIntervalMilliseconds)
    }

    /// What `GET /api/events` streams.
    public nonisolated var feed: any EventStreamSource { broadcaster }


    /// Levels are flushed and heartbeats sent from `tick()`.
    public nonisolated var tickInterval: Duration? { levelInterval }

    public func consume(_ events: [StreamEvent]) async throws {
        for event in events {
            let key = event.streamID ?? event.engagementID
            switch event.kind {
            case .audio(let frame):
                // A channel past the cap gets neither a meter nor chunk counts in `statusLines`.
                guard meters[key, default: StreamMeter(engagementID: event.engagementID, streamID: key)].record(frame) else { continue }
            case .streamStarted:
                meters[key] = nil
            case .streamStopped, .streamFailed:
                // The final counts go out before the line that says the stream ended.
                if let meter = meters.removeValue(forKey: key), meter.dirty { publishLevel(meter) }
            default:
                break
            }
            for line in statusLines.lines(for: event) {
                broadcaster.publish(event: "status", data: StatusMessage(line, of: event).json, engagement: event.engagementID)
            }
            if case .audio = event.kind { continue }
            if let json = try? encoder.encode(event) {
                broadcaster.publish(event: "stream", data: String(decoding: json, as: UTF8.self), engagement: event.engagementID)
            }
        }
    }

    public func tick() async throws {
        for key in meters.keys where meters[key]?.dirty == true {
            publishLevel(meters[key]!)
            meters[key]?.dirty = false
        }
        let now = ContinuousClock.now
        if now - lastHeartbeat >= heartbeatInterval {
            broadcaster.heartbeat()
            lastHeartbeat = now
        }
    }

    public func finish() async throws {
        try await tick()
        broadcaster.close()
    }

    /// Level messages are not replayed, so one nobody watches is not built (the counts go on adding up for the next).
    private func publishLevel(_ meter: StreamMeter) {
        guard broadcaster.isWatched(meter.engagementID) else { return }
        broadcaster.publish(event: "level", data: meter.message().json, engagement: meter.engagementID, replayable: false)
    }
}

/// Chunk counts and the latest frame's level of each channel of one stream, between two level messages.
struct StreamMeter {
    struct Channel {
        var userName: String?
        var chunks = 0
        /// Measured by ingest (`AudioFrame.level`).
        var latest = AudioLevel(peak: 0, rms: 0)
    }

    let engagementID: String
    let streamID: String
    var channels: [String: Channel] = [:]
    var dirty = false
    /// Only the first `ChannelAdmission.defaultLimit` channel ids get a meter: every level message lists them all,
    /// to every subscriber, so invented ids must not grow it.
    private var admission = ChannelAdmission()

    init(engagementID: String, streamID: String) {
        self.engagementID = engagementID
        self.streamID = streamID
    }

    /// Counts one frame of its channel; false when the channel came after the first `ChannelAdmission.defaultLimit`.
    @discardableResult
    mutating func record(_ frame: AudioFrame) -> Bool {
        guard admission.admit(frame.channel) else { return false }
        var channel = channels[frame.channel] ?? Channel()
        channel.chunks += 1
        channel.userName = frame.userName ?? channel.userName
        channel.latest = frame.level ?? AudioLevel(peak: 0, rms: 0)
        channels[frame.channel] = channel
        dirty = true
        return true
    }

    func message() -> LevelMessage {
        LevelMessage(
            engagementID: engagementID, streamID: streamID,
            channels: channels.sorted { $0.key < $1.key }.map { id, channel in
                LevelMessage.Channel(channel: id, userName: channel.userName, chunks: channel.chunks,
                                     rms: (channel.latest.rms * 1000).rounded() / 1000, peak: (channel.latest.peakFraction * 1000).rounded() / 1000)
            },
            time: EventClock.iso8601(millis: EventClock.nowMillis())
        )
    }
}
