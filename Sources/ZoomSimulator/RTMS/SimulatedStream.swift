import Foundation
import NIOCore
import NIOWebSocket

/// One RTMS stream of one engagement: its connections, its state machine, and the audio clock that decides which
/// frames are due. Connections ask it what to send; it never touches a socket itself.
actor SimulatedStream {
    /// A media connection after a successful data handshake.
    private struct MediaLink {
        var link: ConnectionLink
        var kinds: RTMSMediaType
        var framesPerMessage: Int
        var ready = false
        var keepAlive = KeepAliveCounter()
    }

    /// Unanswered keep-alive bookkeeping for one socket.
    struct KeepAliveCounter {
        var outstanding = 0
        var lastTimestamp: Int64?
        var sequence: Int64 = 0
    }

    /// A piece of audio a media connection should send now.
    struct AudioItem: Sendable {
        var channel: Int
        var indices: Range<Int>
        var timestamp: Int64
    }

    /// What a media connection must send on this tick.
    struct MediaBatch: Sendable {
        var audio: [AudioItem] = []
        var transcripts: [ByteBuffer] = []
    }

    /// The `language` of every transcript segment: 9, English in Zoom's language ids, the script's language
    /// whatever `src_language` the client asked for (translation is not simulated).
    static let transcriptLanguage = 9

    let engagementID: String
    let streamID: String
    let sessionID: String
    let expectedSignature: String
    private let settings: StreamSettings
    private let webhooks: WebhookDispatcher
    private let onStop: @Sendable (String, String) async -> Void

    private(set) var listener: Int
    private(set) var phase: StreamPhase = .awaitingClient
    private(set) var paused = false
    private let epochStart: Int64
    /// Frame n of every channel is due at `clockStart + n × frame length` (its timestamp is `epochStart + n × frame length`).
    nonisolated let clockStart: ContinuousClock.Instant
    private var signaling: ConnectionLink?
    private var signalingKeepAlive = KeepAliveCounter()
    private var subscriptions: Set<Int> = []
    private var bufferData = true
    private var media: [Int: MediaLink] = [:]
    private var nextIndex: [Int]
    /// The turn (`SimulatedConversation.turn`) whose transcript segment goes out next.
    private var nextTranscript = 0
    private var silence: [Int: Range<Int>] = [:]
    private var sessionAnnounced = false
    private var everReady = false
    private var deadline: ContinuousClock.Instant?
    private(set) var framesSent: [Int]
    /// Transcript segments sent (MEDIA_DATA_TRANSCRIPT, 17), on whichever media connection asked for them.
    private(set) var transcriptsSent = 0
    /// Sockets whose keep-alive requests are withheld (fault injection); connections made later are not.
    private var stalledLinks: Set<Int> = []
    private(set) var signalingAccepted = 0
    private(set) var mediaAccepted = 0

    init(
        engagementID: String, streamID: String, listener: Int, settings: StreamSettings, webhooks: WebhookDispatcher,
        onStop: @escaping @Sendable (String, String) async -> Void
    ) {
        self.engagementID = engagementID
        self.streamID = streamID
        self.sessionID = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        self.expectedSignature = RTMSSignature.compute(
            clientID: settings.clientID, clientSecret: settings.clientSecret, instanceID: engagementID, streamID: streamID)
        self.listener = listener
        self.settings = settings
        self.webhooks = webhooks
        self.onStop = onStop
        self.epochStart = epochMilliseconds()
        self.clockStart = .now
        self.nextIndex = Array(repeating: 0, count: SimulatedAudio.channelIDs.count)
        self.framesSent = Array(repeating: 0, count: SimulatedAudio.channelIDs.count)
    }

    // MARK: Introspection

    var isSignalingConnected: Bool { signaling != nil }
    var mediaConnectionCount: Int { media.count }
    var isStopped: Bool { !phase.isLive }

    // MARK: Handshakes

    /// Accepts a signaling connection, or refuses it with the documented code.
    func attachSignaling(_ link: ConnectionLink, listener: Int, bufferData: Bool) -> RTMSStatusCode {
        guard phase.isLive, listener == self.listener else { return .invalidStreamID }
        guard signaling == nil else { return .duplicateSignalRequest }
        signaling = link
        signalingKeepAlive = KeepAliveCounter()
        signalingAccepted += 1
        if !everReady { self.bufferData = bufferData }
        if phase == .awaitingClient || phase == .signalingInterrupted {
            phase = .connected
            deadline = nil
        }
        return .ok
    }

    /// Sends the messages that follow a successful signaling handshake (event 1, first packet timestamp).
    func signalingEstablished() {
        send(EventUpdate(event: .init(eventType: RTMSEventType.firstPacketTimestamp.rawValue, timestamp: epochStart)))
    }

    /// Accepts a media connection for the given kinds, or refuses it.
    func attachMedia(_ link: ConnectionLink, listener: Int, kinds: RTMSMediaType, framesPerMessage: Int) -> RTMSStatusCode {
        guard phase.isLive, listener == self.listener, signaling != nil else { return .invalidStreamID }
        let wanted = kinds.subtracting(.all)
        for existing in media.values where !existing.kinds.subtracting(.all).intersection(wanted).isEmpty {
            return .duplicateMediaDataConnection
        }
        media[link.id] = MediaLink(link: link, kinds: kinds, framesPerMessage: framesPerMessage)
        mediaAccepted += 1
        return .ok
    }

    // MARK: Signaling messages

    /// CLIENT_READY_ACK (7): media starts flowing on every handshaken media connection.
    func clientReady() {
        guard signaling != nil, !media.isEmpty else { return }
        for id in media.keys { media[id]?.ready = true }
        if !everReady {
            everReady = true
            if !bufferData {
                let due = dueIndex(.now)
                nextIndex = nextIndex.map { _ in due + 1 }
                // Turns whose audio was dropped, even in part, get no transcript either.
                nextTranscript = SimulatedConversation.firstTurn(startingAtOrAfter: due + 1)
            }
        }
        switch phase {
        case .connected, .mediaInterrupted:
            phase = .streaming
            deadline = nil
            send(StreamStateUpdate(rtmsStreamID: streamID, state: .active, reason: 0, timestamp: epochMilliseconds()))
            if !sessionAnnounced {
                sessionAnnounced = true
                send(SessionStateUpdate(rtmsSessionID: sessionID, state: .started, stopReason: 0, reason: 0, timestamp: epochMilliseconds()))
            }
        default:
            break
        }
    }

    /// EVENT_SUBSCRIPTION (5): no response; ZCC answer events are pushed for the parties already connected.
    func subscribe(_ entries: [RTMSClientMessage.EventSubscriptionEntry]) {
        for entry in entries {
            guard let type = entry.eventType else { continue }
            if entry.subscribe ?? true {
                let isNew = subscriptions.insert(type).inserted
                if isNew, type == ZCCVoiceEventType.consumerAnswered.rawValue { pushVoiceEvent(.consumerAnswered, channel: 1) }
                if isNew, type == ZCCVoiceEventType.userAnswered.rawValue { pushVoiceEvent(.userAnswered, channel: 0) }
            } else {
                subscriptions.remove(type)
            }
        }
    }

    /// Sends a ZCC voice event if the client subscribed to it; returns whether it was sent.
    @discardableResult
    func pushVoiceEvent(_ type: ZCCVoiceEventType, channel: Int) -> Bool {
        guard subscriptions.contains(type.rawValue), signaling != nil else { return false }
        let info = ZCCVoiceEventUpdate.ParticipantInfo(
            channelID: SimulatedAudio.channelID(channel), participantMode: channel == 0 ? "agent" : "caller",
            queueID: "simQueue01", queueName: "Simulated Queue", accountID: settings.accountID, divisionID: "simDivision01",
            phoneNumber: channel == 0 ? "+15550000001" : "+15550000002", userID: channel == 0 ? "simAgentUser01" : "simConsumer01",
            displayName: SimulatedAudio.participantNames[channel])
        send(ZCCVoiceEventUpdate(event: .init(eventType: type, eventTs: epochMilliseconds(), participantInfo: info)))
        return true
    }

    func sessionStateRequest(sessionID: String?) {
        let state: RTMSSessionState = !phase.isLive ? .stopped : paused ? .paused : sessionAnnounced ? .started : .initialize
        send(SessionStateResponse(rtmsSessionID: sessionID ?? self.sessionID, state: state, timestamp: epochMilliseconds()))
    }

    func streamStateRequest() {
        let state: RTMSStreamState
        switch phase {
        case .awaitingClient, .connected: state = .inactive
        case .streaming: state = paused ? .paused : .active
        case .mediaInterrupted, .signalingInterrupted: state = .interrupted
        case .stopped: state = .terminated
        }
        send(StreamStateResponse(rtmsStreamID: streamID, state: state, timestamp: epochMilliseconds()))
    }

    func videoSubscription(userID: Int64) {
        send(VideoSubscriptionResponse(userID: userID, statusCode: .mediaTypeVideoNotSupported,
            reason: RTMSStatusCode.mediaTypeVideoNotSupported.reason, timestamp: epochMilliseconds()))
    }

    /// STREAM_CLOSE_REQ (21): answer 22 and end the stream with reason 20.
    func closeRequested() async {
        send(StreamCloseResponse(rtmsStreamID: streamID, statusCode: .ok, reason: "OK", timestamp: epochMilliseconds()))
        await end(.receiverRequestedClose)
    }

    // MARK: Keep-alive

    func keepAliveTick(linkID: Int) async -> KeepAliveAction {
        if stalledLinks.contains(linkID) { return signaling?.id == linkID || media[linkID] != nil ? .skip : .gone }
        let now = epochMilliseconds()
        if signaling?.id == linkID {
            if signalingKeepAlive.outstanding >= settings.keepAliveMisses {
                await end(.keepAliveTimeout)
                return .expired
            }
            signalingKeepAlive.outstanding += 1
            signalingKeepAlive.sequence += 1
            signalingKeepAlive.lastTimestamp = now
            return .send(KeepAliveRequest(sequence: signalingKeepAlive.sequence, timestamp: now))
        }
        guard var link = media[linkID] else { return .gone }
        if link.keepAlive.outstanding >= settings.keepAliveMisses {
            await end(.keepAliveTimeout)
            return .expired
        }
        link.keepAlive.outstanding += 1
        link.keepAlive.sequence += 1
        link.keepAlive.lastTimestamp = now
        media[linkID] = link
        return .send(KeepAliveRequest(sequence: link.keepAlive.sequence, timestamp: now))
    }

    /// KEEP_ALIVE_RESP (13) on the socket `linkID`; counts only when it echoes the last request's timestamp.
    func keepAliveAnswered(linkID: Int, timestamp: Int64?) {
        if signaling?.id == linkID {
            if timestamp == signalingKeepAlive.lastTimestamp { signalingKeepAlive.outstanding = 0 }
        } else if media[linkID]?.keepAlive.lastTimestamp == timestamp {
            media[linkID]?.keepAlive.outstanding = 0
        }
    }

    // MARK: Media clock

    private func dueIndex(_ now: ContinuousClock.Instant) -> Int {
        Int((now - clockStart).milliseconds) / settings.frameMilliseconds
    }

    /// The audio and transcripts due on media connection `linkID`; nil when the connection is no longer attached.
    func takeMedia(linkID: Int, now: ContinuousClock.Instant) -> MediaBatch? {
        guard let link = media[linkID] else { return nil }
        var batch = MediaBatch()
        guard link.ready, phase == .streaming, !paused else { return batch }
        let due = dueIndex(now)
        if link.kinds.contains(.audio) || link.kinds.contains(.all) {
            let k = link.framesPerMessage
            let oldest = due - settings.bufferFrames
            for channel in nextIndex.indices {
                var start = max(nextIndex[channel], oldest)
                while start + k - 1 <= due {
                    let indices = start..<(start + k)
                    let muted = silence[channel].map { $0.overlaps(indices) } ?? false
                    if !muted {
                        batch.audio.append(AudioItem(channel: channel, indices: indices,
                            timestamp: epochStart + Int64(start * settings.frameMilliseconds)))
                        framesSent[channel] += k
                    }
                    start += k
                }
                nextIndex[channel] = start
            }
        }
        if link.kinds.contains(.transcript) || link.kinds.contains(.all) {
            // One segment per turn, once the turn's last frame is due: the party's line, timed like its audio. Like
            // audio, what is older than the buffer is dropped: turns that began before its oldest frame.
            nextTranscript = max(nextTranscript, SimulatedConversation.firstTurn(startingAtOrAfter: due - settings.bufferFrames))
            var turn = SimulatedConversation.turn(nextTranscript)
            while turn.frames.upperBound - 1 <= due {
                let start = epochStart + Int64(turn.frames.lowerBound * settings.frameMilliseconds)
                let message = TranscriptMessage(content: .init(
                    userID: 0, userName: SimulatedAudio.participantNames[turn.party], channelID: SimulatedAudio.channelID(turn.party),
                    data: turn.text, startTime: start, endTime: epochStart + Int64(turn.frames.upperBound * settings.frameMilliseconds),
                    timestamp: start, language: Self.transcriptLanguage))
                if let buffer = JSONWire.encode(message) {
                    batch.transcripts.append(buffer)
                    transcriptsSent += 1
                }
                nextTranscript += 1
                turn = SimulatedConversation.turn(nextTranscript)
            }
        }
        return batch
    }

    // MARK: Control (REST and test hooks)

    func pause() -> Bool {
        guard phase.isLive, !paused else { return false }
        paused = true
        send(SessionStateUpdate(rtmsSessionID: sessionID, state: .paused, stopReason: 0, reason: 0, timestamp: epochMilliseconds()))
        return true
    }

    func resume() -> Bool {
        guard phase.isLive, paused else { return false }
        paused = false
        let due = dueIndex(.now)
        nextIndex = nextIndex.map { _ in due + 1 }
        nextTranscript = max(nextTranscript, SimulatedConversation.firstTurn(startingAtOrAfter: due + 1))
        send(SessionStateUpdate(rtmsSessionID: sessionID, state: .resumed, stopReason: 0, reason: 0, timestamp: epochMilliseconds()))
        return true
    }

    /// Mutes one party: no packets for `frames` frames from now (muted parties send nothing, per the docs).
    func silence(channel: Int, frames: Int) {
        let from = max(dueIndex(.now) + 1, nextIndex[channel])
        silence[channel] = from..<(from + frames)
    }

    /// Stops keep-alive requests on every socket the stream has now (they stay open; media keeps flowing).
    /// A client that watches its sockets sees signaling fall silent; sockets it opens afterwards are served normally.
    func stallKeepAlives() {
        stalledLinks.formUnion(media.keys)
        if let signaling { stalledLinks.insert(signaling.id) }
    }

    /// Sends raw frames on the signaling socket and/or every media socket, in order, between the regular messages.
    func sendRaw(_ frames: [(WebSocketOpcode, ByteBuffer)], signaling toSignaling: Bool, media toMedia: Bool) -> Int {
        var links: [ConnectionLink] = []
        if toSignaling, let signaling { links.append(signaling) }
        if toMedia { links += media.values.map(\.link) }
        for link in links {
            for (opcode, buffer) in frames { link.mailbox.yield(.raw(opcode, buffer)) }
        }
        return links.count
    }

    /// Drops every media connection: event 7 and stream state 2 (reason 14) on signaling, then waits for a media
    /// reconnect within the window.
    func dropMedia() {
        let links = media.values.map(\.link)
        media.removeAll()
        links.forEach { $0.mailbox.yield(.abort) }
        mediaLost()
    }

    /// Drops signaling and media: `voice_rtms_interrupted` webhook, then waits for a full reconnect.
    func dropSignaling(sendWebhook: Bool = true) {
        guard phase.isLive else { return }
        let links = media.values.map(\.link) + (signaling.map { [$0] } ?? [])
        media.removeAll()
        signaling = nil
        links.forEach { $0.mailbox.yield(.abort) }
        phase = .signalingInterrupted
        deadline = .now + settings.signalingReconnectWindow
        if sendWebhook {
            webhooks.enqueue(.make(.voiceRTMSInterrupted, payload: VoiceRTMSPayload(engagementID: engagementID, rtmsStreamID: streamID), lane: engagementID))
        }
    }

    /// Server failover: every connection is dropped and the stream moves to listener `to`; the caller sends the
    /// new `voice_rtms_started`.
    func failover(to listener: Int) {
        let links = media.values.map(\.link) + (signaling.map { [$0] } ?? [])
        media.removeAll()
        signaling = nil
        links.forEach { $0.mailbox.yield(.abort) }
        self.listener = listener
        phase = .awaitingClient
        deadline = .now + settings.signalingReconnectWindow
    }

    /// Called by a connection's task when its socket is gone, whoever closed it.
    func detach(linkID: Int) {
        if signaling?.id == linkID {
            signaling = nil
            guard phase.isLive else { return }
            // The app's signaling went away: Zoom interrupts media too and waits for a full reconnect.
            dropSignaling()
        } else if media.removeValue(forKey: linkID) != nil {
            mediaLost()
        }
    }

    private func mediaLost() {
        guard phase == .streaming || phase == .connected else { return }
        phase = .mediaInterrupted
        deadline = .now + settings.mediaReconnectWindow
        send(EventUpdate(event: .init(eventType: RTMSEventType.mediaConnectionInterrupted.rawValue, timestamp: epochMilliseconds(), mediaType: 1)))
        send(StreamStateUpdate(rtmsStreamID: streamID, state: .interrupted, reason: RTMSStopReason.dataConnectionInterrupted.rawValue, timestamp: epochMilliseconds()))
    }

    /// Ends the stream if a reconnect window has run out.
    func expireIfDue(_ now: ContinuousClock.Instant) async {
        if let deadline, deadline <= now { await end(.awaitedReconnectionTimedOut) }
    }

    /// Ends the stream: session state 5 and stream state 4 with the reason, close 1000, signed `voice_rtms_stopped`.
    func end(_ reason: RTMSStopReason) async {
        guard phase.isLive else { return }
        phase = .stopped(reason)
        deadline = nil
        let now = epochMilliseconds()
        send(SessionStateUpdate(rtmsSessionID: sessionID, state: .stopped, stopReason: reason.rawValue, reason: reason.rawValue, timestamp: now))
        send(StreamStateUpdate(rtmsStreamID: streamID, state: .terminated, reason: reason.rawValue, timestamp: now))
        let links = media.values.map(\.link) + (signaling.map { [$0] } ?? [])
        media.removeAll()
        signaling = nil
        for link in links {
            link.mailbox.yield(.close(.normalClosure, "stream stopped"))
            link.mailbox.finish()
        }
        // The registry forgets the live stream before the webhook goes out, so that a control request made on
        // receipt of `voice_rtms_stopped` already sees the stream stopped.
        await onStop(engagementID, streamID)
        webhooks.enqueue(.make(.voiceRTMSStopped, payload: VoiceRTMSPayload(
            engagementID: engagementID, rtmsStreamID: streamID, stopReason: reason.rawValue), lane: engagementID))
    }

    /// Abrupt close: every socket dropped without a close frame and without any message or webhook; the stream
    /// waits for a full reconnect like after a signaling loss.
    func abruptClose() { dropSignaling(sendWebhook: false) }

    private func send(_ message: some Encodable) {
        guard let signaling, let buffer = JSONWire.encode(message) else { return }
        signaling.send(buffer)
    }
}

/// Per-stream copies of the configuration values a stream needs.
struct StreamSettings: Sendable {
    var clientID: String
    var clientSecret: String
    var accountID: String
    var agentUserID: String
    var webhooksNameAgents: Bool
    var keepAliveMisses: Int
    var mediaReconnectWindow: Duration
    var signalingReconnectWindow: Duration
    var frameMilliseconds: Int
    var bufferFrames: Int
}

/// JSON encoding of outbound control messages (media frames are pre-encoded instead).
enum JSONWire {
    static func encode(_ value: some Encodable) -> ByteBuffer? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return nil }
        return ByteBuffer(bytes: data)
    }
}
