import RelayCore

/// One line of the agent page's live log (README.md, "Sinks"): a level and a text, in the original app's words where it
/// had them (the original Node app's log said "Starting RTMS connection", "RTMS stopped", …).
public struct StatusLine: Sendable, Hashable, Codable {
    public enum Level: String, Sendable, Hashable, Codable {
        case info, success, warning, error
    }

    public var level: Level
    public var text: String
    /// The party a line is about (audio counters are per channel), when there is one.
    public var channel: String?

    public init(level: Level, text: String, channel: String? = nil) {
        self.level = level
        self.text = text
        self.channel = channel
    }
}

/// Derives status lines from stream events. Pure apart from its per-channel chunk counters, so the web sink (and
/// anything else that shows people what is happening) says the same things in the same words.
public struct StatusLineBuilder: Sendable {
    /// `Received N audio chunks` is emitted every this many chunks per channel (`status_every_chunks`).
    public let everyChunks: Int
    private var chunks: [ChannelKey: Int] = [:]

    private struct ChannelKey: Hashable, Sendable {
        var stream: String
        var channel: String
    }

    public init(everyChunks: Int = 50) {
        self.everyChunks = max(1, everyChunks)
    }

    /// The lines `event` produces (usually zero or one).
    public mutating func lines(for event: StreamEvent) -> [StatusLine] {
        switch event.kind {
        case .engagementStarted:
            return [StatusLine(level: .info, text: "Engagement \(event.engagementID) started")]
        case .engagementEnded:
            return [StatusLine(level: .info, text: "Engagement \(event.engagementID) ended")]
        case .streamRequested(let action, _):
            return [StatusLine(level: .info, text: "RTMS \(action.rawValue) requested")]
        case .streamStarted:
            resetCounters(stream: event.streamID)
            return [StatusLine(level: .info, text: "Starting RTMS connection")]
        case .streamConnected(let parameters):
            let format = parameters.audio
            return [StatusLine(level: .success, text: "RTMS connected (\(format.codec.rawValue), \(format.sampleRate / 1000) kHz, \(format.channels == 1 ? "mono" : "\(format.channels) channels"), \(parameters.frameMilliseconds) ms)")]
        case .streamInterrupted(_, let attempt):
            return [StatusLine(level: .warning, text: "Connection lost, reconnecting (attempt \(attempt))")]
        case .streamResumed:
            return [StatusLine(level: .success, text: "Connection restored")]
        case .streamPaused:
            return [StatusLine(level: .info, text: "RTMS paused")]
        case .streamUnpaused:
            return [StatusLine(level: .info, text: "RTMS resumed")]
        case .streamStopped(let reason):
            resetCounters(stream: event.streamID)
            // Normal ends (API stop, parties hanging up, our own close) read as the original app did.
            let normal: Set<Int> = [0, 1, 2, 6, 20, 21, 22, 25]
            if normal.contains(reason.code) { return [StatusLine(level: .success, text: "RTMS stopped")] }
            return [StatusLine(level: .warning, text: "RTMS stopped: \(reason.name) (\(reason.code))")]
        case .streamFailed(let code, let message):
            return [StatusLine(level: .error, text: "RTMS error: \(message)" + (code.map { " (status \($0))" } ?? ""))]
        case .audio(let frame):
            let key = ChannelKey(stream: event.streamID ?? "", channel: frame.channel)
            let count = (chunks[key] ?? 0) + 1
            chunks[key] = count
            guard count % everyChunks == 0 else { return [] }
            return [StatusLine(level: .success, text: "Received \(count) audio chunks", channel: frame.channel)]
        case .participant(let participant):
            return [StatusLine(level: .info, text: "Participant event \(participant.eventName)")]
        case .audioGap(let gap):
            let seconds = (Double(gap.durationMillis) / 100).rounded() / 10
            let who = gap.userName.map { "\($0)'s" } ?? "channel \(gap.channel)'s"
            let why = gap.cause == .reconnect ? "after a reconnect" : "(Zoom's timestamps jumped)"
            return [StatusLine(level: .warning, text: "\(seconds) s of \(who) audio missing \(why)", channel: gap.channel)]
        case .transcript:
            return []
        }
    }

    private mutating func resetCounters(stream: String?) {
        let stream = stream ?? ""
        chunks = chunks.filter { $0.key.stream != stream }
    }
}
