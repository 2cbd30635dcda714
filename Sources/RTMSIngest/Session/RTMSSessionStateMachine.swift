import RelayCore

/// The life of one RTMS stream as a pure state machine: it decides, `RTMSSession` performs the I/O.
///
/// Phases: `idle → connectingSignaling → connectingMedia → streaming`, with `awaitingReconnect` between
/// attempts, `closing` while a STREAM_CLOSE_REQ is outstanding, and `finished`. The reconnection rules are
/// Zoom's (docs/zoom-rtms.md, "Reconnection and failover"): a media drop (event 7, stream state 2 / reason 14, or the media socket
/// going away) reopens media only; a lost signaling socket or `rtms_interrupted` reconnects everything; a new
/// `rtms_started` for the live stream moves to the new URL at once. Delays are `base` doubling to `maximum`.
/// At most one signaling and one media connection are open at any time: the private `State` enum's cases
/// carry the connections open in them, and `phase` is what callers see of it.
public struct RTMSSessionStateMachine: Sendable {
    public typealias ConnectionID = Int

    public struct Configuration: Sendable {
        public var reconnectBase: Duration
        public var reconnectMaximum: Duration
        /// Attempts per interruption before the stream is given up (`stream.failed`).
        public var maxReconnectAttempts: Int
        public var allowList: HostAllowList
        /// How long to wait for STREAM_CLOSE_RESP on shutdown.
        public var closeTimeout: Duration
        /// What the relay asks for in the media handshake.
        public var requestedMedia: MediaParameters
        /// Whether transcripts are asked for too, which picks the `all` media URL when Zoom lists one.
        public var transcripts: Bool
        /// How long a normal close of media by Zoom waits for signaling to say the stream is over before it
        /// counts as an interruption (the two sockets race when a stream ends).
        public var normalCloseGrace: Duration = .seconds(1)

        public init(reconnectBase: Duration = .seconds(3), reconnectMaximum: Duration = .seconds(30), maxReconnectAttempts: Int = 8,
                    allowList: HostAllowList, closeTimeout: Duration = .seconds(2), requestedMedia: MediaParameters = MediaParameters(),
                    transcripts: Bool = true) {
            self.reconnectBase = reconnectBase
            self.reconnectMaximum = reconnectMaximum
            self.maxReconnectAttempts = maxReconnectAttempts
            self.allowList = allowList
            self.closeTimeout = closeTimeout
            self.requestedMedia = requestedMedia
            self.transcripts = transcripts
        }
    }

    public enum Scope: Sendable, Equatable { case full, media }

    public enum Phase: Sendable, Equatable {
        case idle
        case connectingSignaling
        case connectingMedia
        case streaming
        case awaitingReconnect(Scope)
        case closing
        case finished
    }

    /// How a connection ended.
    public enum CloseCause: Sendable, Equatable {
        /// The server sent a close frame with this code (1000 = normal).
        case serverClosed(code: Int)
        /// The connection failed or dropped without a close frame (1006), or its liveness watchdog fired.
        case lost(String)
    }

    public enum Input: Sendable, Equatable {
        case start
        case signalingHandshake(ConnectionID, SignalingHandshakeResponse, nowMillis: Int64)
        case dataHandshake(ConnectionID, DataHandshakeResponse)
        case streamState(StreamStateUpdate)
        case sessionState(SessionStateUpdate)
        /// EVENT_UPDATE 7, MEDIA_CONNECTION_INTERRUPTED.
        case mediaInterrupted
        case streamCloseResponse
        case connectionClosed(ConnectionID, CloseCause)
        case webhookStarted(serverURL: String, eventTs: Int64)
        case webhookInterrupted(eventTs: Int64)
        case webhookStopped(reason: Int?)
        case timerFired(token: Int)
        case shutdown
    }

    /// What the session must do, in order: connect, close, send, time, publish a stream-level event, finish.
    public enum Action: Sendable, Equatable {
        /// Connect to this URL: the parsed value that passed the allow-list, never the raw string.
        case openSignaling(ConnectionID, url: RTMSServerURL)
        /// Connect media and ask for `media` in the data handshake (audio, plus transcripts when configured and
        /// Zoom listed a URL that serves both).
        case openMedia(ConnectionID, url: RTMSServerURL, media: RTMSMediaType)
        case close(ConnectionID)
        case sendClientReady(on: ConnectionID)
        case sendEventSubscription(on: ConnectionID)
        case sendStreamClose(on: ConnectionID)
        case startTimer(after: Duration, token: Int)
        /// Publish this stream-level event (connected, interrupted, resumed, paused, unpaused, stopped, failed).
        case publish(StreamEvent.Kind)
        /// A failover `rtms_started` named a refused URL; it was ignored and the live connection goes on.
        case failoverRefused(String)
        /// The session is over: stop reading inputs.
        case finish
    }
    public let configuration: Configuration
    public private(set) var serverURL: String
    public private(set) var mediaURL: RTMSServerURL?
    /// What the media handshake asks for on `mediaURL`.
    public private(set) var mediaTypes: RTMSMediaType = .audio
    /// The current reconnection attempt (0 while healthy).
    public private(set) var attempt = 0
    public private(set) var paused = false
    public private(set) var negotiated: MediaParameters?
    private var server: RTMSServerURL?
    private var nextID: ConnectionID = 1
    private var interruptionReason = ""
    private var hasStreamed = false
    private var timerToken = 0
    private var lastReason = 0
    private var state: State = .idle

    /// The open signaling connection and what is known only while it is open.
    private struct SignalingLink: Sendable {
        let id: ConnectionID
        /// When its handshake succeeded: webhooks about an older interruption are stale.
        var readyAt: Int64?
        /// Whether the event subscription went out on it.
        var subscribed = false
    }

    /// Where the stream is. Each case carries the connections open in it and nothing else, so a connection
    /// the state does not hold cannot be open (`enter(_:gone:)` closes what the next state drops).
    private enum State: Sendable {
        case idle
        /// Signaling opened; its handshake is outstanding.
        case connectingSignaling(SignalingLink)
        /// Signaling is ready; media opened and its handshake is outstanding.
        case connectingMedia(SignalingLink, media: ConnectionID)
        /// Audio flows. `media` is nil during the grace after Zoom closed media normally.
        case streaming(SignalingLink, media: ConnectionID?)
        /// Waiting out a backoff with nothing open; both connections reopen.
        case reconnectingFully
        /// Waiting out a backoff on a live signaling connection; media alone reopens.
        case reconnectingMedia(SignalingLink)
        /// STREAM_CLOSE_REQ went out on signaling; waiting for the response or the timeout.
        case closing(SignalingLink, media: ConnectionID?)
        case finished

        var signaling: SignalingLink? {
            switch self {
            case .connectingSignaling(let link), .connectingMedia(let link, _), .streaming(let link, _),
                 .reconnectingMedia(let link), .closing(let link, _): link
            case .idle, .reconnectingFully, .finished: nil
            }
        }

        var media: ConnectionID? {
            switch self {
            case .connectingMedia(_, let media): media
            case .streaming(_, let media), .closing(_, let media): media
            case .idle, .connectingSignaling, .reconnectingFully, .reconnectingMedia, .finished: nil
            }
        }
    }

    public init(serverURL: String, configuration: Configuration) {
        self.serverURL = serverURL
        self.configuration = configuration
    }

    public var phase: Phase {
        switch state {
        case .idle: .idle
        case .connectingSignaling: .connectingSignaling
        case .connectingMedia: .connectingMedia
        case .streaming: .streaming
        case .reconnectingFully: .awaitingReconnect(.full)
        case .reconnectingMedia: .awaitingReconnect(.media)
        case .closing: .closing
        case .finished: .finished
        }
    }

    public var signaling: ConnectionID? { state.signaling?.id }
    public var media: ConnectionID? { state.media }
    public var isFinished: Bool { phase == .finished }

    /// Feeds one input; returns the actions to perform, in order. One method per input below.
    public mutating func handle(_ input: Input) -> [Action] {
        if case .finished = state { return [] }
        return switch input {
        case .start: start()
        case .signalingHandshake(let id, let response, let now): signalingHandshake(id, response, now: now)
        case .dataHandshake(let id, let response): dataHandshake(id, response)
        case .streamState(let update): streamState(update)
        case .sessionState(let update): sessionState(update)
        case .mediaInterrupted: mediaInterrupted()
        case .streamCloseResponse: streamCloseResponse()
        case .connectionClosed(let id, let cause): connectionClosed(id, cause)
        case .webhookStarted(let url, let eventTs): webhookStarted(url: url, eventTs: eventTs)
        case .webhookInterrupted(let eventTs): webhookInterrupted(eventTs: eventTs)
        case .webhookStopped(let reason): webhookStopped(reason: reason)
        case .timerFired(let token): timerFired(token: token)
        case .shutdown: shutdown()
        }
    }

    // MARK: Inputs

    /// Connect signaling to the webhook's server, if the allow-list accepts it.
    private mutating func start() -> [Action] {
        guard case .idle = state else { return [] }
        switch configuration.allowList.check(serverURL) {
        case .success(let parsed): server = parsed
        case .failure(let refusal): return fail(nil, "server_urls \(refusal)")
        }
        return openSignaling()
    }

    /// SIGNALING_HAND_SHAKE_RESP: connect media to the URL Zoom lists, or give up or retry on a refusal.
    private mutating func signalingHandshake(_ id: ConnectionID, _ response: SignalingHandshakeResponse, now: Int64) -> [Action] {
        guard case .connectingSignaling(var link) = state, link.id == id else { return [] }
        guard response.statusCode == 0 else {
            let message = "signaling handshake refused: \(response.reason) (status \(response.statusCode))"
            // A duplicate-signal refusal is transient (Zoom still holds our previous socket); so is any refusal
            // while reconnecting. A refusal of the very first handshake (bad signature, unknown stream) is final.
            if response.reason.lowercased().contains("duplicate signal request") || hasStreamed || attempt > 0 {
                return retry(.full, message)
            }
            return fail(response.statusCode, message)
        }
        guard let choice = response.mediaURL(transcripts: configuration.transcripts) else {
            return fail(nil, "signaling handshake response lists no audio media URL")
        }
        switch configuration.allowList.check(choice.url) {
        case .success(let parsed): mediaURL = parsed
        case .failure(let refusal): return fail(nil, "media server \(refusal)")
        }
        mediaTypes = choice.types
        link.readyAt = now
        return openMedia(on: link)
    }

    /// DATA_HAND_SHAKE_RESP: the format is decided here; streaming begins (CLIENT_READY_ACK, the event subscription).
    private mutating func dataHandshake(_ id: ConnectionID, _ response: DataHandshakeResponse) -> [Action] {
        guard case .connectingMedia(var link, let media) = state, media == id else { return [] }
        guard response.statusCode == 0 else {
            let message = "media handshake refused: \(response.reason) (status \(response.statusCode))"
            if hasStreamed || attempt > 0 { return retry(.media, message) }
            return fail(response.statusCode, message)
        }
        guard !response.payloadEncrypted else { return fail(nil, "Zoom sent encrypted payloads, which the relay does not support") }
        let parameters = response.mediaParameters(requested: configuration.requestedMedia)
        negotiated = parameters
        var actions: [Action] = []
        if hasStreamed {
            actions.append(.publish(.streamResumed(reason: interruptionReason, attempt: attempt)))
        } else {
            hasStreamed = true
            actions.append(.publish(.streamConnected(parameters)))
        }
        attempt = 0
        actions.append(.sendClientReady(on: link.id))
        if !link.subscribed {
            link.subscribed = true
            actions.append(.sendEventSubscription(on: link.id))
        }
        state = .streaming(link, media: media)
        return actions
    }

    /// STREAM_STATE_UPDATE: terminated, interrupted (reason 14: media only), paused, resumed.
    private mutating func streamState(_ update: StreamStateUpdate) -> [Action] {
        switch RTMSStreamState(rawValue: update.state) {
        case .terminated: return stop(RTMSStopReasons.reason(update.reason))
        case .interrupted where update.reason == 14: return mediaInterrupted()
        case .paused: return pause(true)
        case .resumed: return pause(false)
        default:
            if update.reason != 0 { lastReason = update.reason }
            return []
        }
    }

    /// SESSION_STATE_UPDATE: paused or resumed; a session's stop only remembers its reason.
    private mutating func sessionState(_ update: SessionStateUpdate) -> [Action] {
        switch RTMSSessionState(rawValue: update.state) {
        case .paused: return pause(true)
        case .resumed: return pause(false)
        case .stopped:
            // A stream holds several sessions; the stream's own state 4 (or the socket) ends it.
            lastReason = update.stopReason
            return []
        default: return []
        }
    }

    /// Event 7, or stream state 2 with reason 14: media reopens alone. Zoom sends both for one drop, and our own
    /// socket may notice first: act once, and only on a stream that is actually flowing.
    private mutating func mediaInterrupted() -> [Action] {
        guard case .streaming = state else { return [] }
        return retry(.media, "media connection interrupted")
    }

    /// STREAM_CLOSE_RESP: the close the relay asked for is done.
    private mutating func streamCloseResponse() -> [Action] {
        guard case .closing = state else { return [] }
        return stop(RTMSStopReasons.receiverRequestClose)
    }

    /// A socket ended; one of an earlier connection is ignored.
    private mutating func connectionClosed(_ id: ConnectionID, _ cause: CloseCause) -> [Action] {
        if id == signaling { return signalingClosed(id, cause) }
        if id == media { return mediaClosed(id, cause) }
        return []
    }

    /// Signaling is gone: the stream is over when Zoom closed it normally while streaming (or the relay was
    /// closing), else everything reconnects.
    private mutating func signalingClosed(_ id: ConnectionID, _ cause: CloseCause) -> [Action] {
        switch state {
        case .closing:
            return stop(RTMSStopReasons.receiverRequestClose, gone: id)
        case .reconnectingMedia:
            state = .reconnectingFully
            return []
        case .streaming where cause == .serverClosed(code: 1000):
            // Zoom closes normally only when the stream is over (state 4 usually came first).
            return stop(RTMSStopReasons.reason(lastReason), gone: id)
        case .connectingSignaling, .connectingMedia, .streaming:
            return retry(.full, "signaling connection lost (\(Self.describe(cause)))", gone: id)
        case .idle, .reconnectingFully, .finished:
            return []
        }
    }

    /// Media is gone: it reconnects alone, after a grace for signaling to say the stream ended when Zoom closed
    /// it normally.
    private mutating func mediaClosed(_ id: ConnectionID, _ cause: CloseCause) -> [Action] {
        switch state {
        case .streaming(let link, _) where cause == .serverClosed(code: 1000):
            // Zoom closes media normally when the stream is over, and signaling says so a moment later:
            // wait for that before calling it an interruption.
            state = .streaming(link, media: nil)
            timerToken += 1
            return [.startTimer(after: configuration.normalCloseGrace, token: timerToken)]
        case .connectingMedia, .streaming:
            return retry(.media, "media connection lost (\(Self.describe(cause)))", gone: id)
        case .closing(let link, _):
            state = .closing(link, media: nil)
            return []
        case .idle, .connectingSignaling, .reconnectingFully, .reconnectingMedia, .finished:
            return []
        }
    }

    /// A new `rtms_started` for this stream: Zoom failed over; move to the new URL now.
    private mutating func webhookStarted(url: String, eventTs: Int64) -> [Action] {
        let parsed: RTMSServerURL
        switch configuration.allowList.check(url) {
        case .success(let value): parsed = value
        case .failure(let refusal):
            // A verified webhook for a healthy stream must not be able to end it by naming a bad host: keep
            // the current connection (or its reconnection) and only say so.
            return [.failoverRefused("failover server_urls \(refusal); keeping the current connection")]
        }
        if case .closing = state { return [] }
        if url == serverURL, case .streaming(let link, _) = state, let ready = link.readyAt, eventTs < ready { return [] }
        // Zoom failed over: drop everything and go to the new server now, without waiting for a backoff.
        serverURL = url
        server = parsed
        attempt += 1
        interruptionReason = "server failover"
        timerToken += 1
        return openSignaling(announcing: [.publish(.streamInterrupted(reason: interruptionReason, attempt: attempt))])
    }

    /// `rtms_interrupted`: reconnect fully, unless the current signaling is newer than the interruption.
    private mutating func webhookInterrupted(eventTs: Int64) -> [Action] {
        guard case .streaming(let link, _) = state else { return [] }
        // An interruption older than our current signaling connection is already healed.
        if let ready = link.readyAt, eventTs < ready { return [] }
        return retry(.full, "signaling interrupted")
    }

    /// `rtms_stopped`: the stream is over.
    private mutating func webhookStopped(reason: Int?) -> [Action] {
        if case .closing = state { return stop(reason.map(RTMSStopReasons.reason) ?? RTMSStopReasons.receiverRequestClose) }
        return stop(RTMSStopReasons.reason(reason ?? lastReason))
    }

    /// A backoff, close or grace timer; stale tokens are ignored.
    private mutating func timerFired(token: Int) -> [Action] {
        guard token == timerToken else { return [] }
        switch state {
        case .reconnectingMedia(let link):
            return openMedia(on: link)
        case .reconnectingFully:
            return openSignaling()
        case .closing:
            return stop(RTMSStopReasons.receiverRequestClose)
        case .streaming(_, media: nil):
            // The grace after a normal media close ran out without the stream ending.
            return retry(.media, "media connection lost (closed by server with code 1000)")
        case .idle, .connectingSignaling, .connectingMedia, .streaming, .finished:
            return []
        }
    }

    /// Relay shutdown: STREAM_CLOSE_REQ and a timeout, or stop at once when there is nothing to close.
    private mutating func shutdown() -> [Action] {
        switch state {
        case .connectingMedia(let link, let media):
            return askToClose(on: link, media: media)
        case .streaming(let link, let media):
            return askToClose(on: link, media: media)
        case .closing:
            return []
        case .idle, .connectingSignaling, .reconnectingFully, .reconnectingMedia, .finished:
            return stop(RTMSStopReasons.receiverRequestClose)
        }
    }

    // MARK: Steps

    private mutating func askToClose(on link: SignalingLink, media: ConnectionID?) -> [Action] {
        state = .closing(link, media: media)
        timerToken += 1
        return [.sendStreamClose(on: link.id), .startTimer(after: configuration.closeTimeout, token: timerToken)]
    }

    /// Moves to `next`, closing (media first) every connection the current state holds and `next` does not,
    /// except `gone`, the one whose end is being handled.
    private mutating func enter(_ next: State, gone: ConnectionID? = nil) -> [Action] {
        let dropped = [state.media, state.signaling?.id].compactMap { $0 }.filter { id in
            id != gone && id != next.media && id != next.signaling?.id
        }
        state = next
        return dropped.map { .close($0) }
    }

    /// Closes what is open, says `announcing`, then opens a new signaling connection.
    private mutating func openSignaling(announcing: [Action] = []) -> [Action] {
        guard let server else { return fail(nil, "no server URL to connect to") }
        let id = nextID
        nextID += 1
        return enter(.connectingSignaling(SignalingLink(id: id))) + announcing + [.openSignaling(id, url: server)]
    }

    private mutating func openMedia(on link: SignalingLink) -> [Action] {
        guard let mediaURL else { return openSignaling() }
        let id = nextID
        nextID += 1
        state = .connectingMedia(link, media: id)
        return [.openMedia(id, url: mediaURL, media: mediaTypes)]
    }

    /// Waits a backoff before reopening `scope` (media alone keeps the signaling connection), or gives up after
    /// the last attempt.
    private mutating func retry(_ scope: Scope, _ reason: String, gone: ConnectionID? = nil) -> [Action] {
        attempt += 1
        guard attempt <= configuration.maxReconnectAttempts else {
            return fail(nil, "reconnection gave up after \(configuration.maxReconnectAttempts) attempts: \(reason)", gone: gone)
        }
        interruptionReason = reason
        timerToken += 1
        let next: State = if scope == .media, let link = state.signaling { .reconnectingMedia(link) } else { .reconnectingFully }
        return enter(next, gone: gone)
            + [.publish(.streamInterrupted(reason: reason, attempt: attempt)), .startTimer(after: backoff(attempt: attempt), token: timerToken)]
    }

    /// `base · 2^(attempt−1)`, capped at `maximum`: 3, 6, 12, 24, 30, 30 … seconds by default.
    public func backoff(attempt: Int) -> Duration {
        var delay = configuration.reconnectBase
        for _ in 1..<max(attempt, 1) {
            delay *= 2
            if delay >= configuration.reconnectMaximum { return configuration.reconnectMaximum }
        }
        return min(delay, configuration.reconnectMaximum)
    }

    private mutating func pause(_ paused: Bool) -> [Action] {
        guard self.paused != paused else { return [] }
        self.paused = paused
        return [.publish(paused ? .streamPaused : .streamUnpaused)]
    }

    private mutating func stop(_ reason: StopReason, gone: ConnectionID? = nil) -> [Action] {
        enter(.finished, gone: gone) + [.publish(.streamStopped(reason)), .finish]
    }

    private mutating func fail(_ statusCode: Int?, _ message: String, gone: ConnectionID? = nil) -> [Action] {
        enter(.finished, gone: gone) + [.publish(.streamFailed(statusCode: statusCode, message: message)), .finish]
    }

    private static func describe(_ cause: CloseCause) -> String {
        switch cause {
        case .serverClosed(let code): "closed by server with code \(code)"
        case .lost(let why): why
        }
    }
}
