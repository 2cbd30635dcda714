import RelayCore
import Testing
@testable import RTMSIngest

@Suite("RTMS session state machine (docs/zoom-rtms.md: states, stop reasons, keep-alive, reconnection)")
struct RTMSSessionStateMachineTests {
    typealias Machine = RTMSSessionStateMachine
    static let url = "wss://rtms.zoom.us/signal"
    static let audioURL = "wss://rtms.zoom.us/media/audio"
    /// With transcripts (the default), media goes to the `all` URL.
    static let mediaURL = "wss://rtms.zoom.us/media/all"
    static let audioAndTranscripts: RTMSMediaType = [.audio, .transcript]
    static let config = Machine.Configuration(reconnectBase: .seconds(3), reconnectMaximum: .seconds(30), maxReconnectAttempts: 8,
                                              allowList: HostAllowList(["*.zoom.us"]), closeTimeout: .seconds(2))
    static let ok = SignalingHandshakeResponse(statusCode: 0, mediaURLs: ["audio": audioURL, "all": mediaURL])
    static let dataOK = DataHandshakeResponse(statusCode: 0)

    /// A machine that has done both handshakes: signaling is connection 1, media connection 2.
    func streaming() -> Machine {
        var machine = Machine(serverURL: Self.url, configuration: Self.config)
        _ = machine.handle(.start)
        _ = machine.handle(.signalingHandshake(1, Self.ok, nowMillis: 1_000))
        _ = machine.handle(.dataHandshake(2, Self.dataOK))
        return machine
    }

    @Test("the signaling handshake comes first, then media (audio and transcripts) on the 'all' URL, then CLIENT_READY_ACK and the subscription on signaling")
    func happyPath() {
        var machine = Machine(serverURL: Self.url, configuration: Self.config)
        #expect(machine.handle(.start) == [.openSignaling(1, url: .parsed(Self.url))])
        #expect(machine.handle(.signalingHandshake(1, Self.ok, nowMillis: 1)) == [.openMedia(2, url: .parsed(Self.mediaURL), media: Self.audioAndTranscripts)])
        #expect(machine.handle(.dataHandshake(2, Self.dataOK)) == [
            .publish(.streamConnected(MediaParameters())), .sendClientReady(on: 1), .sendEventSubscription(on: 1),
        ])
        #expect(machine.phase == .streaming)
    }

    @Test("with zoom.transcripts false, media is audio only: on the audio URL, else on 'all'")
    func audioOnly() {
        var config = Self.config
        config.transcripts = false
        var machine = Machine(serverURL: Self.url, configuration: config)
        _ = machine.handle(.start)
        #expect(machine.handle(.signalingHandshake(1, Self.ok, nowMillis: 1)) == [.openMedia(2, url: .parsed(Self.audioURL), media: .audio)])
        var allOnly = Machine(serverURL: Self.url, configuration: config)
        _ = allOnly.handle(.start)
        let response = SignalingHandshakeResponse(statusCode: 0, mediaURLs: ["all": "wss://a.zoom.us/all"])
        #expect(allOnly.handle(.signalingHandshake(1, response, nowMillis: 1)) == [.openMedia(2, url: .parsed("wss://a.zoom.us/all"), media: .audio)])
    }

    @Test("with transcripts but no 'all' URL listed, media is audio only on the audio URL (one socket cannot carry both there)")
    func transcriptsWithoutAllURL() {
        var machine = Machine(serverURL: Self.url, configuration: Self.config)
        _ = machine.handle(.start)
        let response = SignalingHandshakeResponse(statusCode: 0, mediaURLs: ["audio": Self.audioURL, "transcript": "wss://rtms.zoom.us/media/transcript"])
        #expect(machine.handle(.signalingHandshake(1, response, nowMillis: 1)) == [.openMedia(2, url: .parsed(Self.audioURL), media: .audio)])
        #expect(machine.mediaTypes == .audio)
    }

    @Test("a server_urls host outside rtms_allowed_hosts is refused before any connection")
    func disallowedHost() {
        var machine = Machine(serverURL: "wss://evil.example.com/signal", configuration: Self.config)
        let actions = machine.handle(.start)
        #expect(!actions.contains { if case .openSignaling = $0 { true } else { false } })
        #expect(actions.last == .finish)
        #expect(machine.isFinished)
    }

    @Test("a media URL outside rtms_allowed_hosts is refused too")
    func disallowedMediaHost() {
        var machine = Machine(serverURL: Self.url, configuration: Self.config)
        _ = machine.handle(.start)
        let actions = machine.handle(.signalingHandshake(1, SignalingHandshakeResponse(statusCode: 0, mediaURLs: ["audio": "wss://10.0.0.1/x"]), nowMillis: 1))
        #expect(actions.first == .close(1))
        #expect(!actions.contains { if case .openMedia = $0 { true } else { false } })
        #expect(actions.contains { if case .publish(.streamFailed(_, let message)) = $0 { message.contains("10.0.0.1") } else { false } })
        #expect(actions.last == .finish)
        #expect(machine.isFinished)
        #expect(machine.media == nil)
    }

    @Test("security #5: media URLs that bypassed the old parser (NUL, ws://, upper-case scheme on ws, IP literal, %, backslash) open nothing")
    func disallowedMediaBypasses() {
        for bad in ["wss://127.0.0.2\u{0}.zoom.us/x", "ws://a.zoom.us/x", "WS://a.zoom.us/x", "wss://10.0.0.1/x",
                    "wss://127%2e0.0.1.zoom.us/x", "wss://evil.com\\.zoom.us/x", "wss://a.zoom.us\u{7f}/x"] {
            // The audio URL, and the 'all' URL that transcripts pick over a good audio URL.
            for urls in [["audio": bad], ["audio": Self.audioURL, "all": bad]] {
                var machine = Machine(serverURL: Self.url, configuration: Self.config)
                _ = machine.handle(.start)
                let actions = machine.handle(.signalingHandshake(1, SignalingHandshakeResponse(statusCode: 0, mediaURLs: urls), nowMillis: 1))
                #expect(!actions.contains { if case .openMedia = $0 { true } else { false } }, "\(bad.debugDescription) was opened")
                #expect(machine.isFinished, "\(bad.debugDescription)")
            }
        }
    }

    @Test("security #5: an upper-case WSS:// URL is connected to as lower-case wss (TLS), from the parsed parts")
    func upperCaseSchemeUsesTLS() {
        var machine = Machine(serverURL: "WSS://RTMS.Zoom.US:443/Signal?x=1#frag", configuration: Self.config)
        let actions = machine.handle(.start)
        guard case .openSignaling(_, let url) = actions.first else { Issue.record("no open: \(actions)"); return }
        #expect(url.usesTLS)
        #expect(url.connectString == "wss://rtms.zoom.us:443/Signal?x=1")
    }

    @Test("a refused first handshake fails the stream with Zoom's status and reason")
    func refusedHandshake() {
        var machine = Machine(serverURL: Self.url, configuration: Self.config)
        _ = machine.handle(.start)
        let actions = machine.handle(.signalingHandshake(1, SignalingHandshakeResponse(statusCode: 3, reason: "Invalid signature"), nowMillis: 1))
        #expect(actions == [.close(1), .publish(.streamFailed(statusCode: 3, message: "signaling handshake refused: Invalid signature (status 3)")), .finish])
    }

    @Test("a duplicate-signal refusal is retried with backoff, not fatal")
    func duplicateSignal() {
        var machine = Machine(serverURL: Self.url, configuration: Self.config)
        _ = machine.handle(.start)
        let actions = machine.handle(.signalingHandshake(1, SignalingHandshakeResponse(statusCode: 8, reason: "duplicate signal request"), nowMillis: 1))
        #expect(actions.first == .close(1))
        #expect(actions.contains(.startTimer(after: .seconds(3), token: 1)))
        #expect(machine.phase == .awaitingReconnect(.full))
    }

    @Test("encrypted payloads are refused")
    func encrypted() {
        var machine = Machine(serverURL: Self.url, configuration: Self.config)
        _ = machine.handle(.start)
        _ = machine.handle(.signalingHandshake(1, Self.ok, nowMillis: 1))
        let actions = machine.handle(.dataHandshake(2, DataHandshakeResponse(statusCode: 0, payloadEncrypted: true)))
        #expect(actions.last == .finish)
        #expect(actions.contains { if case .publish(.streamFailed) = $0 { true } else { false } })
    }

    @Test("a media drop (event 7, then state 2 / reason 14, then the socket) reopens media only, once")
    func mediaDrop() {
        var machine = streaming()
        #expect(machine.handle(.mediaInterrupted) == [
            .close(2), .publish(.streamInterrupted(reason: "media connection interrupted", attempt: 1)), .startTimer(after: .seconds(3), token: 1),
        ])
        #expect(machine.handle(.streamState(StreamStateUpdate(state: 2, reason: 14))) == [])
        #expect(machine.handle(.connectionClosed(2, .lost("reset"))) == [])
        #expect(machine.handle(.timerFired(token: 1)) == [.openMedia(3, url: .parsed(Self.mediaURL), media: Self.audioAndTranscripts)])
        #expect(machine.signaling == 1)
        #expect(machine.handle(.dataHandshake(3, Self.dataOK)) == [
            .publish(.streamResumed(reason: "media connection interrupted", attempt: 1)), .sendClientReady(on: 1),
        ])
        #expect(machine.attempt == 0)
    }

    @Test("state 2 with reason 14 alone also reopens media")
    func mediaDropByStreamState() {
        var machine = streaming()
        let actions = machine.handle(.streamState(StreamStateUpdate(state: 2, reason: 14)))
        #expect(actions.first == .close(2))
        #expect(machine.phase == .awaitingReconnect(.media))
    }

    @Test("a normal close of media waits for signaling to end the stream; only then is it an interruption")
    func mediaNormalClose() {
        var ended = streaming()
        #expect(ended.handle(.connectionClosed(2, .serverClosed(code: 1000))) == [.startTimer(after: .seconds(1), token: 1)])
        let stop = ended.handle(.streamState(StreamStateUpdate(state: RTMSStreamState.terminated.rawValue, reason: 6)))
        #expect(!stop.contains { if case .publish(.streamInterrupted) = $0 { true } else { false } })
        #expect(stop.last == .finish)
        #expect(ended.handle(.timerFired(token: 1)) == [])

        var dropped = streaming()
        _ = dropped.handle(.connectionClosed(2, .serverClosed(code: 1000)))
        #expect(dropped.handle(.timerFired(token: 1)) == [
            .publish(.streamInterrupted(reason: "media connection lost (closed by server with code 1000)", attempt: 1)), .startTimer(after: .seconds(3), token: 2),
        ])
        #expect(dropped.handle(.timerFired(token: 2)) == [.openMedia(3, url: .parsed(Self.mediaURL), media: Self.audioAndTranscripts)])
    }

    @Test("the media socket going away while signaling stays up reopens media")
    func mediaSocketLost() {
        var machine = streaming()
        let actions = machine.handle(.connectionClosed(2, .lost("connection reset")))
        #expect(actions == [.publish(.streamInterrupted(reason: "media connection lost (connection reset)", attempt: 1)), .startTimer(after: .seconds(3), token: 1)])
        #expect(machine.handle(.timerFired(token: 1)) == [.openMedia(3, url: .parsed(Self.mediaURL), media: Self.audioAndTranscripts)])
    }

    @Test("a lost signaling socket closes media and reconnects everything to the same URL")
    func signalingLost() {
        var machine = streaming()
        let actions = machine.handle(.connectionClosed(1, .lost("dropped")))
        #expect(actions.first == .close(2))
        #expect(machine.phase == .awaitingReconnect(.full))
        #expect(machine.handle(.timerFired(token: 1)) == [.openSignaling(3, url: .parsed(Self.url))])
        _ = machine.handle(.signalingHandshake(3, Self.ok, nowMillis: 2_000))
        let resumed = machine.handle(.dataHandshake(4, Self.dataOK))
        // A new signaling connection needs its own subscription.
        #expect(resumed == [.publish(.streamResumed(reason: "signaling connection lost (dropped)", attempt: 1)), .sendClientReady(on: 3), .sendEventSubscription(on: 3)])
    }

    @Test("signaling lost while waiting to reopen media upgrades the wait to a full reconnect")
    func upgradeToFull() {
        var machine = streaming()
        _ = machine.handle(.mediaInterrupted)
        _ = machine.handle(.connectionClosed(1, .lost("dropped")))
        #expect(machine.phase == .awaitingReconnect(.full))
        #expect(machine.handle(.timerFired(token: 1)) == [.openSignaling(3, url: .parsed(Self.url))])
    }

    @Test("voice_rtms_interrupted reconnects fully, unless it is older than the current signaling connection")
    func webhookInterrupted() {
        var machine = streaming()
        #expect(machine.handle(.webhookInterrupted(eventTs: 999)) == [])
        let actions = machine.handle(.webhookInterrupted(eventTs: 1_500))
        #expect(actions.prefix(2) == [.close(2), .close(1)])
        #expect(machine.phase == .awaitingReconnect(.full))
        // While already reconnecting, another signal changes nothing.
        #expect(machine.handle(.webhookInterrupted(eventTs: 1_600)) == [])
    }

    @Test("a second rtms_started for a live stream moves to the new server at once")
    func failover() {
        var machine = streaming()
        let actions = machine.handle(.webhookStarted(serverURL: "wss://rtms2.zoom.us/signal", eventTs: 5_000))
        #expect(actions == [.close(2), .close(1), .publish(.streamInterrupted(reason: "server failover", attempt: 1)), .openSignaling(3, url: .parsed("wss://rtms2.zoom.us/signal"))])
        _ = machine.handle(.signalingHandshake(3, Self.ok, nowMillis: 6_000))
        #expect(machine.handle(.dataHandshake(4, Self.dataOK)).first == .publish(.streamResumed(reason: "server failover", attempt: 1)))
    }

    @Test("a failover while waiting for a backoff cancels the wait and goes to the new URL")
    func failoverDuringBackoff() {
        var machine = streaming()
        _ = machine.handle(.connectionClosed(1, .lost("dropped")))
        let actions = machine.handle(.webhookStarted(serverURL: "wss://rtms2.zoom.us/signal", eventTs: 5_000))
        #expect(actions.last == .openSignaling(3, url: .parsed("wss://rtms2.zoom.us/signal")))
        #expect(machine.handle(.timerFired(token: 1)) == [])
    }

    @Test("security #14: a failover rtms_started to a refused URL is ignored and the live connection goes on")
    func failoverDisallowed() {
        for bad in ["wss://169.254.169.254/", "ws://rtms2.zoom.us/signal", "wss://rtms2.zoom.us\u{0}.evil/"] {
            var machine = streaming()
            let actions = machine.handle(.webhookStarted(serverURL: bad, eventTs: 5_000))
            #expect(actions.count == 1, "\(actions)")
            guard case .failoverRefused(let message) = actions.first else { Issue.record("\(actions)"); continue }
            #expect(message.contains("keeping the current connection"))
            #expect(machine.phase == .streaming)
            #expect(machine.signaling == 1 && machine.media == 2)
            #expect(!machine.isFinished)
            // The stream still works afterwards: a real failover moves it.
            #expect(machine.handle(.webhookStarted(serverURL: "wss://rtms2.zoom.us/signal", eventTs: 6_000)).last == .openSignaling(3, url: .parsed("wss://rtms2.zoom.us/signal")))
        }
    }

    @Test("backoff is 3 s doubling to 30 s")
    func backoff() {
        let machine = Machine(serverURL: Self.url, configuration: Self.config)
        #expect((1...7).map { machine.backoff(attempt: $0) } == [.seconds(3), .seconds(6), .seconds(12), .seconds(24), .seconds(30), .seconds(30), .seconds(30)])
    }

    @Test("every failed attempt is reported with its number, and the stream fails after the last one")
    func givesUp() {
        var config = Self.config
        config.maxReconnectAttempts = 3
        var machine = Machine(serverURL: Self.url, configuration: config)
        _ = machine.handle(.start)
        _ = machine.handle(.signalingHandshake(1, Self.ok, nowMillis: 1))
        _ = machine.handle(.dataHandshake(2, Self.dataOK))
        var reported: [Int] = []
        var id = 1
        var token = 0
        for _ in 1...4 {
            let actions = machine.handle(.connectionClosed(id, .lost("refused")))
            for action in actions {
                if case .publish(.streamInterrupted(_, let attempt)) = action { reported.append(attempt) }
                if case .startTimer(_, let t) = action { token = t }
            }
            if machine.isFinished { #expect(actions.contains { if case .publish(.streamFailed) = $0 { true } else { false } }); break }
            let open = machine.handle(.timerFired(token: token))
            guard case .openSignaling(let next, _) = open.last else { Issue.record("expected a reconnect, got \(open)"); return }
            id = next
        }
        #expect(reported == [1, 2, 3])
        #expect(machine.isFinished)
    }

    @Test("stream state 4 stops the stream once, with Zoom's reason; later signals change nothing")
    func terminated() {
        var machine = streaming()
        #expect(machine.handle(.streamState(StreamStateUpdate(state: 4, reason: 6))) == [
            .close(2), .close(1), .publish(.streamStopped(StopReason(code: 6, name: "STOP_BC_MEETING_ENDED"))), .finish,
        ])
        #expect(machine.handle(.webhookStopped(reason: 6)) == [])
        #expect(machine.handle(.connectionClosed(1, .serverClosed(code: 1000))) == [])
    }

    @Test("the stopped webhook stops the stream with its stop_reason")
    func webhookStopped() {
        var machine = streaming()
        #expect(machine.handle(.webhookStopped(reason: 25)) == [
            .close(2), .close(1), .publish(.streamStopped(StopReason(code: 25, name: "STOP_BC_MANUAL_API_TRIGGERED"))), .finish,
        ])
    }

    @Test("a normal close of signaling by Zoom ends the stream; an abrupt one reconnects")
    func socketClose() {
        var machine = streaming()
        _ = machine.handle(.sessionState(SessionStateUpdate(state: 5, stopReason: 21)))
        #expect(machine.handle(.connectionClosed(1, .serverClosed(code: 1000))).suffix(2) == [.publish(.streamStopped(StopReason(code: 21, name: "STOP_BC_CUSTOMER_DISCONNECTED"))), .finish])
        var other = streaming()
        _ = other.handle(.connectionClosed(1, .serverClosed(code: 1011)))
        #expect(other.phase == .awaitingReconnect(.full))
    }

    @Test("pause and resume are reported once each, whichever message carries them")
    func pauseResume() {
        var machine = streaming()
        #expect(machine.handle(.sessionState(SessionStateUpdate(state: 3))) == [.publish(.streamPaused)])
        #expect(machine.handle(.streamState(StreamStateUpdate(state: 5))) == [])
        #expect(machine.handle(.sessionState(SessionStateUpdate(state: 4))) == [.publish(.streamUnpaused)])
        #expect(machine.handle(.streamState(StreamStateUpdate(state: 6))) == [])
    }

    @Test("shutdown sends STREAM_CLOSE_REQ, then closes and reports stopped (reason 20) on the answer")
    func shutdown() {
        var machine = streaming()
        #expect(machine.handle(.shutdown) == [.sendStreamClose(on: 1), .startTimer(after: .seconds(2), token: 1)])
        #expect(machine.handle(.streamCloseResponse) == [.close(2), .close(1), .publish(.streamStopped(StopReason(code: 20, name: "STOP_BC_RECEIVER_REQUEST_CLOSE"))), .finish])
    }

    @Test("shutdown without an answer from Zoom still stops after the close timeout")
    func shutdownTimeout() {
        var machine = streaming()
        _ = machine.handle(.shutdown)
        #expect(machine.handle(.timerFired(token: 1)).suffix(2) == [.publish(.streamStopped(StopReason(code: 20, name: "STOP_BC_RECEIVER_REQUEST_CLOSE"))), .finish])
    }

    @Test("shutdown before the handshakes are done stops at once")
    func shutdownEarly() {
        var machine = Machine(serverURL: Self.url, configuration: Self.config)
        _ = machine.handle(.start)
        #expect(machine.handle(.shutdown) == [.close(1), .publish(.streamStopped(StopReason(code: 20, name: "STOP_BC_RECEIVER_REQUEST_CLOSE"))), .finish])
    }

    @Test("messages from connections that are no longer current are ignored")
    func staleConnections() {
        var machine = streaming()
        _ = machine.handle(.mediaInterrupted)
        #expect(machine.handle(.dataHandshake(2, Self.dataOK)) == [])
        #expect(machine.handle(.signalingHandshake(7, Self.ok, nowMillis: 1)) == [])
        #expect(machine.handle(.timerFired(token: 99)) == [])
        #expect(machine.handle(.connectionClosed(42, .lost("x"))) == [])
    }

    @Test("a refused media handshake while reconnecting is retried")
    func refusedMediaReconnect() {
        var machine = streaming()
        _ = machine.handle(.mediaInterrupted)
        _ = machine.handle(.timerFired(token: 1))
        let actions = machine.handle(.dataHandshake(3, DataHandshakeResponse(statusCode: 16, reason: "duplicate media")))
        #expect(actions.first == .close(3))
        #expect(machine.phase == .awaitingReconnect(.media))
        #expect(machine.attempt == 2)
    }

    @Test("the negotiated parameters come from Zoom's answer")
    func negotiated() throws {
        var machine = Machine(serverURL: Self.url, configuration: Self.config)
        _ = machine.handle(.start)
        _ = machine.handle(.signalingHandshake(1, Self.ok, nowMillis: 1))
        let response = try RTMSMessageParser.parse(.init(string: #"{"msg_type":4,"status_code":0,"payload_encrypted":false,"media_params":{"audio":{"sample_rate":3,"channel":1,"codec":1,"send_rate":100}}}"#))
        guard case .dataHandshake(let data) = response else { Issue.record("not a data handshake"); return }
        let actions = machine.handle(.dataHandshake(2, data))
        #expect(actions.first == .publish(.streamConnected(MediaParameters(audio: AudioFormat(sampleRate: 48_000, channels: 1, codec: .l16), frameMilliseconds: 100))))
    }
}

extension RTMSServerURL {
    /// A URL the tests know parses.
    static func parsed(_ string: String) -> RTMSServerURL {
        do { return try RTMSServerURL(parsing: string) } catch { fatalError("\(string): \(error)") }
    }
}
