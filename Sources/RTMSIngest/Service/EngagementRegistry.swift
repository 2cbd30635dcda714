import RelayCore

/// What the relay knows about engagements and their streams, fed by the events ingest publishes. It backs
/// `GET /api/engagements` (newest first, with each stream's state) and `GET /api/engagement/active` (the
/// original app's contract).
///
/// Streams are keyed by `rtms_stream_id`: one engagement can have several over its life (RTMS stopped and
/// started again). Ended engagements are kept up to `retainedEngagements`, oldest dropped first.
public actor EngagementRegistry {
    private var engagements: [String: Engagement] = [:]
    private var streamOwner: [String: String] = [:]
    private var order = 0
    private let retainedEngagements: Int
    /// Account and agents of each engagement, for access control (readable without awaiting the actor).
    public nonisolated let bindings = EngagementBindings()

    public init(retainedEngagements: Int = 1000) {
        self.retainedEngagements = retainedEngagements
    }

    private struct Engagement {
        var id: String
        var isActive: Bool
        var startedAt: Int64
        var endedAt: Int64?
        var order: Int
        var streams: [StreamSnapshot] = []
        var call = CallDetails()
    }

    /// Applies one published event.
    public func record(_ event: StreamEvent) {
        let at = event.timeMillis
        switch event.kind {
        case .engagementStarted(let payload):
            bindings.learn(event.engagementID, EngagementBinding(webhookPayload: payload))
            var engagement = engagementEntry(event.engagementID, at: at)
            engagement.call.learn(webhookPayload: payload)
            engagement.isActive = true
            engagement.endedAt = nil
            if engagement.streams.isEmpty { engagement.startedAt = at }
            engagements[event.engagementID] = engagement
        case .engagementEnded(let payload):
            bindings.learn(event.engagementID, EngagementBinding(webhookPayload: payload))
            var engagement = engagementEntry(event.engagementID, at: at)
            engagement.call.learn(webhookPayload: payload)
            engagement.isActive = false
            engagement.endedAt = at
            engagements[event.engagementID] = engagement
            prune()
        case .streamStarted(let host):
            guard let streamID = event.streamID else { return }
            updateStream(event.engagementID, streamID, at: at) { stream in
                if stream.state == .stopped || stream.state == .failed {
                    stream = StreamSnapshot(streamId: streamID, state: .starting, startedAt: EventClock.iso8601(millis: at))
                }
                stream.state = .starting
                stream.serverHost = host
            }
        case .streamConnected(let parameters):
            updateStream(event.engagementID, event.streamID, at: at) {
                $0.state = .streaming
                $0.mediaParameters = parameters
            }
        case .streamInterrupted(let reason, let attempt):
            updateStream(event.engagementID, event.streamID, at: at) {
                $0.state = .interrupted
                $0.lastReason = reason
                $0.attempt = attempt
            }
        case .streamResumed:
            updateStream(event.engagementID, event.streamID, at: at) {
                $0.state = $0.paused ? .paused : .streaming
                $0.attempt = nil
            }
        case .streamPaused:
            updateStream(event.engagementID, event.streamID, at: at) {
                $0.paused = true
                if $0.state == .streaming { $0.state = .paused }
            }
        case .streamUnpaused:
            updateStream(event.engagementID, event.streamID, at: at) {
                $0.paused = false
                if $0.state == .paused { $0.state = .streaming }
            }
        case .streamStopped(let reason):
            updateStream(event.engagementID, event.streamID, at: at) {
                $0.state = .stopped
                $0.stopReason = reason
                $0.stoppedAt = EventClock.iso8601(millis: at)
            }
        case .streamFailed(let code, let message):
            updateStream(event.engagementID, event.streamID, at: at) {
                $0.state = .failed
                $0.lastReason = code.map { "\(message) (status \($0))" } ?? message
                $0.stoppedAt = EventClock.iso8601(millis: at)
            }
        case .participant(let participant):
            // Only an engagement the relay already knows: participant events come from its streams.
            engagements[event.engagementID]?.call.learn(participant: participant.participant)
        case .streamRequested, .audio, .audioGap, .transcript:
            break
        }
    }

    /// Every engagement `visible` lets through, newest first, each with its streams newest first.
    public func snapshot(visible: (String) -> Bool = { _ in true }) -> [EngagementSnapshot] {
        engagements.values.filter { visible($0.id) }.sorted { ($0.startedAt, $0.order) > ($1.startedAt, $1.order) }.map { engagement in
            EngagementSnapshot(engagementId: engagement.id, isActive: engagement.isActive,
                               startedAt: EventClock.iso8601(millis: engagement.startedAt),
                               endedAt: engagement.endedAt.map(EventClock.iso8601(millis:)), call: engagement.call,
                               streams: engagement.streams.reversed())
        }
    }

    /// The active engagement started last among those `visible` lets through, in the original app's shape.
    public func active(visible: (String) -> Bool = { _ in true }) -> ActiveEngagement {
        guard let latest = engagements.values.filter({ $0.isActive && visible($0.id) }).max(by: { ($0.startedAt, $0.order) < ($1.startedAt, $1.order) }) else {
            return ActiveEngagement(isActive: false, engagementId: nil, startedAt: nil)
        }
        return ActiveEngagement(isActive: true, engagementId: latest.id, startedAt: EventClock.iso8601(millis: latest.startedAt))
    }

    /// The state of one stream, or nil when unknown.
    public func streamState(_ streamID: String) -> StreamSnapshot.State? {
        guard let owner = streamOwner[streamID] else { return nil }
        return engagements[owner]?.streams.first { $0.streamId == streamID }?.state
    }

    /// How many streams are neither stopped nor failed.
    public func liveStreamCount() -> Int {
        engagements.values.reduce(0) { $0 + $1.streams.filter { $0.state != .stopped && $0.state != .failed }.count }
    }

    private func engagementEntry(_ id: String, at: Int64) -> Engagement {
        if let engagement = engagements[id] { return engagement }
        order += 1
        return Engagement(id: id, isActive: true, startedAt: at, order: order)
    }

    private func updateStream(_ engagementID: String, _ streamID: String?, at: Int64, _ update: (inout StreamSnapshot) -> Void) {
        guard let streamID else { return }
        var engagement = engagementEntry(engagementID, at: at)
        engagements[engagementID] = engagement
        streamOwner[streamID] = engagementID
        if let index = engagement.streams.firstIndex(where: { $0.streamId == streamID }) {
            update(&engagement.streams[index])
            engagement.streams[index].updatedAt = EventClock.iso8601(millis: at)
        } else {
            var stream = StreamSnapshot(streamId: streamID, state: .starting, startedAt: EventClock.iso8601(millis: at))
            update(&stream)
            engagement.streams.append(stream)
        }
        engagements[engagementID] = engagement
    }

    private func prune() {
        let ended = engagements.values.filter { !$0.isActive }
        guard ended.count > retainedEngagements else { return }
        for engagement in ended.sorted(by: { ($0.endedAt ?? 0) < ($1.endedAt ?? 0) }).prefix(ended.count - retainedEngagements) {
            engagements[engagement.id] = nil
            bindings.forget([engagement.id])
            for stream in engagement.streams { streamOwner[stream.streamId] = nil }
        }
    }
}

/// One engagement in `GET /api/engagements`.
public struct EngagementSnapshot: Sendable, Codable, Equatable {
    public var engagementId: String
    public var isActive: Bool
    public var startedAt: String
    public var endedAt: String?
    /// Direction, agents, caller, queue and each channel's role, where Zoom gave them.
    public var call: CallDetails
    public var streams: [StreamSnapshot]
}

/// One stream of an engagement, with the state the agent page needs to enable its buttons.
public struct StreamSnapshot: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable {
        case starting, streaming, interrupted, paused, stopped, failed
    }

    public var streamId: String
    public var state: State
    public var startedAt: String
    public var updatedAt: String?
    public var stoppedAt: String?
    public var serverHost: String?
    public var paused = false
    public var attempt: Int?
    public var lastReason: String?
    public var stopReason: StopReason?
    public var mediaParameters: MediaParameters?

    init(streamId: String, state: State, startedAt: String) {
        self.streamId = streamId
        self.state = state
        self.startedAt = startedAt
    }
}

/// `GET /api/engagement/active`: `{"isActive":true,"engagementId":"…","startedAt":"<ISO>"}` or
/// `{"isActive":false,"engagementId":null}` — the original app's exact shape.
public struct ActiveEngagement: Sendable, Codable, Equatable {
    public var isActive: Bool
    public var engagementId: String?
    public var startedAt: String?

    enum CodingKeys: String, CodingKey { case isActive, engagementId, startedAt }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(isActive, forKey: .isActive)
        try c.encode(engagementId, forKey: .engagementId)
        try c.encodeIfPresent(startedAt, forKey: .startedAt)
    }
}
