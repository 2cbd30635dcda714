import Foundation

/// The simulated contact center: which engagements are active, which stream each one has, and the rules REST and
/// the test hooks share (start needs an active engagement without a live stream, and so on).
actor EngagementRegistry {
    /// Why a control request was refused; REST maps these to HTTP statuses.
    enum ControlError: Error, Sendable, Equatable {
        case unknownEngagement
        case invalidState(String)
    }

    private struct Engagement {
        var active = true
        var streamID: String?
        var agent: String
        var startTime: String
    }

    private let settings: StreamSettings
    private let webhooks: WebhookDispatcher
    private var engagements: [String: Engagement] = [:]
    private var streams: [String: SimulatedStream] = [:]
    private var signalingURLs: [String] = []
    private var nextLinkID = 0

    init(settings: StreamSettings, webhooks: WebhookDispatcher) {
        self.settings = settings
        self.webhooks = webhooks
    }

    func setSignalingURLs(_ urls: [String]) { signalingURLs = urls }

    func makeLinkID() -> Int {
        nextLinkID += 1
        return nextLinkID
    }

    /// RTMS WebSockets currently open (upgraded and not yet finished).
    private(set) var openConnections = 0
    func connectionOpened() { openConnections += 1 }
    func connectionClosed() { openConnections -= 1 }

    /// Waits until every RTMS socket has closed, or `timeout`: a simulator that exits while clients still read
    /// would reset their sockets and cut off frames it had already sent.
    func waitForConnectionsToClose(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while openConnections > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: Engagements

    func createEngagement(id: String?, agent: String?) -> String {
        let id = id ?? Self.engagementID()
        let engagement = Engagement(agent: agent ?? settings.agentUserID, startTime: Self.isoNow())
        engagements[id] = engagement
        webhooks.enqueue(.make(.engagementStarted, payload: EngagementPayload(accountID: settings.accountID, object: .init(
            engagementID: id, channel: "voice", direction: "inbound", startTime: engagement.startTime,
            agents: settings.webhooksNameAgents ? [.init(userID: engagement.agent, displayName: SimulatedAudio.participantNames[0])] : nil)), lane: id))
        return id
    }

    /// What `GET /v2/contact_center/engagements/{id}` returns; nil for an unknown engagement.
    func engagementResource(_ id: String) -> EngagementPayload.Object? {
        guard let engagement = engagements[id] else { return nil }
        return .init(engagementID: id, channel: "voice", direction: "inbound", startTime: engagement.startTime,
                     agents: [.init(userID: engagement.agent, displayName: SimulatedAudio.participantNames[0])])
    }

    func endEngagement(_ id: String) async throws(ControlError) {
        guard var engagement = engagements[id], engagement.active else { throw .unknownEngagement }
        if let streamID = engagement.streamID, let stream = streams[streamID] {
            await stream.end(.customerDisconnected)
        }
        engagement = engagements[id] ?? engagement
        engagement.active = false
        engagement.streamID = nil
        engagements[id] = engagement
        webhooks.enqueue(.make(.engagementEnded, payload: EngagementPayload(accountID: settings.accountID, object: .init(
            engagementID: id, channel: "voice", direction: "inbound", endTime: Self.isoNow(),
            agents: settings.webhooksNameAgents ? [.init(userID: engagement.agent, displayName: SimulatedAudio.participantNames[0])] : nil)), lane: id))
    }

    // MARK: Streams

    /// Starts RTMS for an engagement: new stream id, `voice_rtms_started` with the signaling URL.
    func startStream(engagementID: String) throws(ControlError) -> (streamID: String, serverURL: String) {
        guard let engagement = engagements[engagementID], engagement.active else { throw .unknownEngagement }
        if let current = engagement.streamID, streams[current] != nil { throw .invalidState("RTMS is already running for this engagement") }
        let streamID = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let stream = SimulatedStream(engagementID: engagementID, streamID: streamID, listener: 0, settings: settings, webhooks: webhooks) {
            [weak self] engagementID, streamID in
            await self?.streamStopped(engagementID: engagementID, streamID: streamID)
        }
        streams[streamID] = stream
        engagements[engagementID]?.streamID = streamID
        let url = signalingURLs.first ?? ""
        webhooks.enqueue(.make(.voiceRTMSStarted, payload: VoiceRTMSPayload(engagementID: engagementID, rtmsStreamID: streamID, serverURLs: url), lane: engagementID))
        return (streamID, url)
    }

    private func streamStopped(engagementID: String, streamID: String) {
        if engagements[engagementID]?.streamID == streamID { engagements[engagementID]?.streamID = nil }
        stoppedStreams[streamID] = streams.removeValue(forKey: streamID)
    }

    /// Stopped streams stay inspectable by tests (frame counts, final phase).
    private var stoppedStreams: [String: SimulatedStream] = [:]

    /// The live stream of an engagement, for control requests.
    func liveStream(engagementID: String) throws(ControlError) -> SimulatedStream {
        guard let engagement = engagements[engagementID], engagement.active else { throw .unknownEngagement }
        guard let id = engagement.streamID, let stream = streams[id] else { throw .invalidState("RTMS is not running for this engagement") }
        return stream
    }

    /// Any stream ever started, live or stopped.
    func stream(id: String) -> SimulatedStream? { streams[id] ?? stoppedStreams[id] }

    /// The live stream a handshake names, if the instance id matches.
    func handshakeTarget(streamID: String, instanceID: String) -> SimulatedStream? {
        guard let stream = streams[streamID], stream.engagementID == instanceID else { return nil }
        return stream
    }

    /// Moves a live stream to the other RTMS listener and announces it with a new `voice_rtms_started`.
    func failover(engagementID: String) async throws(ControlError) -> String {
        let stream = try liveStream(engagementID: engagementID)
        let target = (await stream.listener + 1) % max(1, signalingURLs.count)
        await stream.failover(to: target)
        let url = signalingURLs[target]
        webhooks.enqueue(.make(.voiceRTMSStarted, payload: VoiceRTMSPayload(engagementID: engagementID, rtmsStreamID: stream.streamID, serverURLs: url), lane: engagementID))
        return url
    }

    /// Ends streams whose reconnect window has run out.
    func expireWindows() async {
        let now = ContinuousClock.now
        for stream in streams.values { await stream.expireIfDue(now) }
    }

    /// Ends every live stream (shutdown of the `simulate` command).
    func stopAll(reason: RTMSStopReason) async {
        for stream in streams.values { await stream.end(reason) }
    }

    var liveStreamCount: Int { streams.count }

    /// Ends every active engagement (and so its stream), as when all calls hang up.
    func endAllEngagements() async {
        for (id, engagement) in engagements where engagement.active {
            try? await endEngagement(id)
        }
    }

    static func engagementID() -> String {
        Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            .replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "A").replacingOccurrences(of: "/", with: "B")
    }

    static func isoNow() -> String {
        ISO8601DateFormatter().string(from: Date())
    }
}
