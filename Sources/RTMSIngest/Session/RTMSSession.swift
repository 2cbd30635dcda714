import NIOConcurrencyHelpers
import Logging
import Synchronization
import NIOCore
import RelayCore
import ZoomWebhooks

/// One RTMS stream: performs what its `RTMSSessionStateMachine` decides — opens and closes the signaling and
/// media sockets, sends the handshakes, CLIENT_READY_ACK, the event subscription and STREAM_CLOSE_REQ, runs the
/// reconnection timers — and publishes what happens as `StreamEvent`s.
///
/// All inputs (socket messages, socket ends, webhooks, timers, shutdown) go through one mailbox and are handled
/// in order by `run()`, so the state machine never sees two at once. Audio and transcripts bypass the mailbox:
/// each socket's `RTMSFrameHandler` hands them, a read at a time, to `publishMedia` on its event loop, which
/// publishes them in arrival order without suspending.
public final class RTMSSession: Sendable {
    enum Input: Sendable {
        case machine(RTMSSessionStateMachine.Input)
        case message(RTMSSessionStateMachine.ConnectionID, RTMSInboundMessage)
        case connectionEnded(RTMSSessionStateMachine.ConnectionID, RTMSSessionStateMachine.CloseCause)
    }

    public let descriptor: RTMSStreamDescriptor
    private let configuration: RTMSClientConfiguration
    private let publisher: IngestPublisher
    private let metrics: IngestMetrics
    private let logger: Logger
    private let inputs: AsyncStream<Input>
    private let continuation: AsyncStream<Input>.Continuation
    /// What turning media into events needs, taken once per read.
    private struct MediaState {
        /// The format the state machine negotiated, set when it confirms the media handshake (before
        /// CLIENT_READY_ACK, so before any audio).
        var parameters: MediaParameters
        /// Checks audio timestamps against the stream's first; kept across reconnections, which continue the same clock.
        var timestamps = AudioTimestampGate()
        /// Holes in each party's audio, published as `audio.gap` before the frame that ends them.
        var gaps = AudioGapDetector()
    }
    private let media: NIOLockedValueBox<MediaState>
    /// Audio frames dropped for an out-of-range timestamp: the first is logged, all are counted as malformed.
    private let outOfRangeTimestamps = Atomic<Int>(0)

    public init(descriptor: RTMSStreamDescriptor, configuration: RTMSClientConfiguration, publisher: IngestPublisher,
                metrics: IngestMetrics = IngestMetrics(), logger: Logger) {
        self.descriptor = descriptor
        self.configuration = configuration
        self.publisher = publisher
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "rtms_stream_id"] = "\(descriptor.streamID)"
        logger[metadataKey: "engagement_id"] = "\(descriptor.instanceID)"
        self.logger = logger
        self.media = NIOLockedValueBox(MediaState(parameters: configuration.media))
        (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
    }

    // MARK: Webhook-driven inputs

    /// A new `rtms_started` for this live stream: Zoom failed over, move to `serverURL`.
    public func failover(serverURL: String, eventTs: Int64) { continuation.yield(.machine(.webhookStarted(serverURL: serverURL, eventTs: eventTs))) }
    /// `rtms_interrupted`: Zoom lost our signaling; reconnect fully.
    public func interrupted(eventTs: Int64) { continuation.yield(.machine(.webhookInterrupted(eventTs: eventTs))) }
    /// `rtms_stopped`: the stream is over.
    public func stopped(reason: Int?) { continuation.yield(.machine(.webhookStopped(reason: reason))) }
    /// Relay shutdown: STREAM_CLOSE_REQ, then close, then `stream.stopped`.
    public func shutdown() { continuation.yield(.machine(.shutdown)) }

    // MARK: Run

    /// Runs the stream until it stops or fails. Cancellation closes the sockets at once.
    ///
    /// Graceful shutdown reaches the session through `shutdown()` (from `IngestService`), never directly: the
    /// WebSocket library closes its sockets by itself when it sees the service group's shutdown signal, which would
    /// race the STREAM_CLOSE_REQ that must go first. The signal is a task-local that every child task inherits, so
    /// the session runs in a detached task — awaited here, and cancelled with the caller, so it stays as structured
    /// as a child task.
    public func run() async {
        let task = Task.detached { await self.runSession() }
        await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            task.cancel()
        }
    }

    private func runSession() async {
        var machine = RTMSSessionStateMachine(serverURL: descriptor.serverURL, configuration: configuration.stateMachineConfiguration)
        var state = RunState()
        await withTaskGroup(of: Void.self) { group in
            var finished = await perform(machine.handle(.start), negotiated: machine.negotiated, state: &state, group: &group)
            var iterator = inputs.makeAsyncIterator()
            while !finished, let input = await iterator.next() {
                let actions: [RTMSSessionStateMachine.Action]
                switch input {
                case .machine(let input):
                    actions = machine.handle(input)
                case .message(let id, let message):
                    guard state.connections[id] != nil, !state.closing.contains(id) else { continue }
                    actions = await translate(message, from: id).flatMap { machine.handle($0) }
                case .connectionEnded(let id, let cause):
                    state.connections[id] = nil
                    state.closing.remove(id)
                    actions = machine.handle(.connectionClosed(id, cause))
                }
                finished = await perform(actions, negotiated: machine.negotiated, state: &state, group: &group)
                if !finished { startDeferredOpens(state: &state, group: &group) }
            }
            for connection in state.connections.values { connection.requestClose() }
            group.cancelAll()
        }
        continuation.finish()
    }

    private struct RunState {
        var connections: [Int: RTMSConnection] = [:]
        var closing: Set<Int> = []
        /// Opens waiting until the previous socket of the same role is fully gone: never two at once.
        var deferred: [(id: Int, role: RTMSConnection.Role, url: RTMSServerURL, media: RTMSMediaType)] = []
    }

    /// Performs actions in order; true once the session is finished. `negotiated` is the machine's media format.
    private func perform(_ actions: [RTMSSessionStateMachine.Action], negotiated: MediaParameters?, state: inout RunState,
                         group: inout TaskGroup<Void>) async -> Bool {
        var finished = false
        // A stream that is over still reads its media socket to the end, so the last frames are published
        // before `stream.stopped`.
        let ending = actions.contains(.finish)
        for action in actions {
            switch action {
            case .openSignaling(let id, let url):
                open(id: id, role: .signaling, url: url, media: [], state: &state, group: &group)
            case .openMedia(let id, let url, let media):
                open(id: id, role: .media, url: url, media: media, state: &state, group: &group)
            case .close(let id):
                state.deferred.removeAll { $0.id == id }
                if let connection = state.connections[id] {
                    state.closing.insert(id)
                    if ending, connection.role == .media {
                        await connection.closeWhenServerDoes(timeout: configuration.mediaDrainTimeout)
                    } else {
                        connection.requestClose()
                    }
                }
            case .sendClientReady(let id):
                // The handshake is confirmed: frames come after this ack, in the format the machine decided.
                if let negotiated { media.withLockedValue { $0.parameters = negotiated } }
                await state.connections[id]?.send(Wire.encode(ClientReadyAck(rtmsStreamID: descriptor.streamID)))
            case .sendEventSubscription(let id):
                let events = descriptor.product == .contactCenter ? configuration.zccSubscribedEvents : [2, 3, 4]
                await state.connections[id]?.send(Wire.encode(EventSubscription(events: events.map { .init(eventType: $0) })))
            case .sendStreamClose(let id):
                await state.connections[id]?.send(Wire.encode(StreamCloseRequest(rtmsStreamID: descriptor.streamID)))
            case .startTimer(let delay, let token):
                let continuation = continuation
                group.addTask {
                    guard (try? await Task.sleep(for: delay)) != nil else { return }
                    continuation.yield(.machine(.timerFired(token: token)))
                }
            case .publish(let kind):
                await publish(kind)
            case .failoverRefused(let message):
                metrics.refusedHost()
                logger.warning("failover refused", metadata: ["message": "\(message)"])
            case .finish:
                finished = true
            }
        }
        return finished
    }

    private func open(id: Int, role: RTMSConnection.Role, url: RTMSServerURL, media: RTMSMediaType, state: inout RunState,
                      group: inout TaskGroup<Void>) {
        let busy = state.connections.values.contains { $0.role == role }
        if busy {
            state.deferred.append((id, role, url, media))
            return
        }
        let connection = RTMSConnection(id: id, role: role)
        state.connections[id] = connection
        let signature = RTMSSignature.compute(clientID: configuration.clientID, clientSecret: configuration.clientSecret.value,
                                              instanceID: descriptor.instanceID, streamID: descriptor.streamID)
        let key = descriptor.product.handshakeInstanceKey
        let handshake: String
        switch role {
        case .signaling:
            handshake = Wire.encode(SignalingHandshakeRequest(instanceKey: key, instanceID: descriptor.instanceID, streamID: descriptor.streamID,
                signature: signature, sequence: id, clientAgent: configuration.clientAgent))
        case .media:
            handshake = Wire.encode(DataHandshakeRequest(instanceKey: key, instanceID: descriptor.instanceID, streamID: descriptor.streamID,
                signature: signature, sequence: id, mediaType: media, audio: configuration.requestedAudio,
                transcript: configuration.requestedTranscript))
            if configuration.transcripts, !media.contains(.transcript) {
                self.logger.warning("Zoom listed no 'all' media URL, so transcripts cannot be asked for on the audio connection; receiving audio only")
            }
        }
        let continuation = continuation
        var logger = logger
        logger[metadataKey: "socket"] = "\(role.rawValue)#\(id)"
        logger.debug("connecting", metadata: ["url": "\(url)"])
        let route = RTMSMessageRoute(media: { self.publishMedia($0) }, control: { continuation.yield(.message(id, $0)) })
        group.addTask { [configuration, metrics, logger] in
            let cause = await connection.run(url: url, configuration: configuration, handshake: handshake, metrics: metrics, logger: logger, route: route)
            logger.debug("connection ended", metadata: ["cause": "\(cause)"])
            continuation.yield(.connectionEnded(id, cause))
        }
    }

    private func startDeferredOpens(state: inout RunState, group: inout TaskGroup<Void>) {
        let pending = state.deferred
        state.deferred = []
        for entry in pending { open(id: entry.id, role: entry.role, url: entry.url, media: entry.media, state: &state, group: &group) }
    }

    // MARK: Messages and events

    /// Turns a socket message into state-machine inputs, publishing the events that need no decision.
    private func translate(_ message: RTMSInboundMessage, from id: Int) async -> [RTMSSessionStateMachine.Input] {
        switch message {
        case .signalingHandshake(let response): return [.signalingHandshake(id, response, nowMillis: EventClock.nowMillis())]
        case .dataHandshake(let response):
            let ignored = response.outOfRangeParameters
            if response.statusCode == 0, !ignored.isEmpty {
                logger.warning("media handshake confirmed out-of-range parameters; keeping the requested ones",
                               metadata: ["ignored": "\(ignored.joined(separator: ", "))"])
            }
            return [.dataHandshake(id, response)]
        case .streamState(let update): return [.streamState(update)]
        case .sessionState(let update): return [.sessionState(update)]
        case .streamCloseResponse: return [.streamCloseResponse]
        case .event(let update):
            if update.eventType == RTMSEventType.mediaConnectionInterrupted.rawValue { return [.mediaInterrupted] }
            if let name = eventName(update.eventType) {
                await publisher.publish(.participant(ParticipantEvent(eventType: update.eventType, eventName: name, participant: update.participant)),
                                        engagementID: descriptor.instanceID, streamID: descriptor.streamID)
            }
            return []
        case .keepAlive, .other, .audio, .transcript:
            // Keep-alives are answered and media published by the frame handler; these never get here.
            return []
        }
    }

    /// The name of a participant-type event on this stream's product (ZCC numbers mean something else in meetings).
    private func eventName(_ type: Int) -> String? {
        if descriptor.product == .contactCenter, let event = ZCCVoiceEventType(rawValue: type) { return event.name }
        switch RTMSEventType(rawValue: type) {
        case .activeSpeakerChange: return "ACTIVE_SPEAKER_CHANGE"
        case .participantJoin: return "PARTICIPANT_JOIN"
        case .participantLeave: return "PARTICIPANT_LEAVE"
        case .sharingStart: return "SHARING_START"
        case .sharingStop: return "SHARING_STOP"
        default: return nil
        }
    }

    /// Publishes one read's media, in order, without suspending (called on the socket's event loop): audio frames
    /// with a timestamp in range, each after the `audio.gap` it ends, and transcript segments.
    private func publishMedia(_ messages: [RTMSInboundMessage]) -> PublishBacklog? {
        var kinds: [StreamEvent.Kind] = []
        kinds.reserveCapacity(messages.count)
        var refused: [(timestamp: Int64, origin: Int64?)] = []
        var gaps: [AudioGap] = []
        var frames = 0
        media.withLockedValue { state in
            let format = state.parameters.audio
            let frameMilliseconds = Int64(state.parameters.frameMilliseconds)
            for message in messages {
                switch message {
                case .audio(let packet):
                    guard state.timestamps.admit(packet.timestamp) else {
                        refused.append((packet.timestamp, state.timestamps.origin))
                        continue
                    }
                    // L16: the frame's length from its bytes; other codecs: the negotiated frame length.
                    let millis = format.codec == .l16 && format.sampleRate > 0 && format.channels > 0
                        ? Int64(packet.pcm.readableBytes / 2 / format.channels) * 1000 / Int64(format.sampleRate)
                        : frameMilliseconds
                    if let gap = state.gaps.frame(channel: packet.channel, timestamp: packet.timestamp, durationMillis: millis) {
                        let event = AudioGap(channel: packet.channel, userName: packet.userName, fromTimestamp: gap.from,
                                             durationMillis: gap.durationMillis, cause: gap.cause)
                        gaps.append(event)
                        kinds.append(.audioGap(event))
                    }
                    frames += 1
                    kinds.append(.audio(AudioFrame(channel: packet.channel, userName: packet.userName, timestamp: packet.timestamp,
                                                   format: format, pcm: packet.pcm)))
                case .transcript(let message):
                    kinds.append(.transcript(transcript(message)))
                default:
                    continue
                }
            }
        }
        for gap in gaps {
            logger.warning("audio missing", metadata: ["channel": "\(gap.channel)", "from": "\(gap.fromTimestamp)",
                                                       "duration_ms": "\(gap.durationMillis)", "cause": "\(gap.cause.rawValue)"])
        }
        for (timestamp, origin) in refused { refusedTimestamp(timestamp, origin: origin) }
        metrics.audioPublished(frames)
        guard !kinds.isEmpty else { return nil }
        return publisher.offerMedia(kinds, engagementID: descriptor.instanceID, streamID: descriptor.streamID)
    }

    /// An audio frame with a timestamp outside `RTMSWireLimits`: counted as malformed and dropped (the stream goes
    /// on); the first is logged.
    private func refusedTimestamp(_ timestamp: Int64, origin: Int64?) {
        metrics.malformed()
        if outOfRangeTimestamps.wrappingAdd(1, ordering: .relaxed).oldValue == 0 {
            logger.warning("audio frame with an out-of-range timestamp dropped (further ones are only counted as malformed frames)",
                           metadata: ["timestamp": "\(timestamp)", "origin": "\(origin.map(String.init) ?? "none")",
                                      "accepted": "0…\(RTMSWireLimits.timestamps.upperBound), within \(RTMSWireLimits.maximumDistanceFromOrigin) ms of the stream's first timestamp"])
        }
    }

    /// A transcript segment as published; times and a language id outside `RTMSWireLimits` are left out, the text is kept.
    private func transcript(_ message: TranscriptMessage) -> Transcript {
        let times = RTMSWireLimits.transcriptTimes(start: message.startTime ?? message.timestamp, end: message.endTime)
        let language = message.language.flatMap { RTMSWireLimits.transcriptLanguages.contains($0) ? $0 : nil }
        if times.start != (message.startTime ?? message.timestamp) || times.end != message.endTime || language != message.language {
            logger.debug("transcript segment with out-of-range times or language; those fields are left out",
                         metadata: ["start_time": "\(message.startTime.map(String.init) ?? "none")", "end_time": "\(message.endTime.map(String.init) ?? "none")",
                                    "timestamp": "\(message.timestamp.map(String.init) ?? "none")", "language": "\(message.language.map(String.init) ?? "none")"])
        }
        return Transcript(channel: RTMSChannel.id(channelID: message.channelID, userID: message.userID), speaker: message.userName, text: message.text,
                          start: times.start, end: times.end, language: language.map { String($0) })
    }

    /// Publishes a stream-level event the machine decided on, logging the stream's life (at info, interruptions at
    /// warning: an operator reads a call's story in the log) and keeping the gap detector in step.
    private func publish(_ kind: StreamEvent.Kind) async {
        switch kind {
        case .streamConnected(let parameters):
            logger.info("stream connected", metadata: [
                "format": "\(parameters.audio.codec.rawValue) \(parameters.audio.sampleRate) Hz \(parameters.audio.channels) ch, \(parameters.frameMilliseconds) ms"])
        case .streamInterrupted(let reason, let attempt):
            logger.warning("stream interrupted", metadata: ["reason": "\(reason)", "attempt": "\(attempt)"])
            media.withLockedValue { $0.gaps.interrupted() }
        case .streamResumed(let reason, let attempt):
            logger.info("stream resumed", metadata: ["after": "\(reason)", "attempt": "\(attempt)"])
        case .streamPaused, .streamUnpaused:
            logger.info(kind == .streamPaused ? "stream paused" : "stream unpaused")
            media.withLockedValue { $0.gaps.reset() }
        case .streamStopped(let reason):
            logger.info("stream stopped", metadata: ["reason": "\(reason.name) (\(reason.code))"])
        case .streamFailed(let code, let message):
            logger.error("stream failed", metadata: ["status_code": "\(code.map(String.init) ?? "-")", "message": "\(message)"])
        default:
            break
        }
        await publisher.publish(kind, engagementID: descriptor.instanceID, streamID: descriptor.streamID)
    }
}
