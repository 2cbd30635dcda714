import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTLS
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import NIOWebSocket
import ServiceLifecycle

/// A fake of Zoom's side of Contact Center RTMS: OAuth, the REST control API, signed webhooks, and the RTMS
/// signaling and media WebSocket servers, following docs/zoom-rtms.md so that a client that works against it
/// works against Zoom.
///
/// Run it as a `Service` (in a `ServiceGroup`, or call `run()` in a task and cancel it); `endpoints()` waits until
/// every listener is bound. The methods below drive engagements and streams the way Zoom's users and servers
/// would, and inject the failures a client must survive.
public final class ZoomSimulator: Service, Sendable {
    public let configuration: SimulatorConfiguration
    private let logger: Logger
    private let oauth: OAuthAuthority
    private let webhooks: WebhookDispatcher
    private let registry: EngagementRegistry
    private let pacer: MediaPacer
    private let endpointBox: EndpointBox
    private let certificates: GeneratedCertificates?
    private let restFault = NIOLockedValueBox<RESTFault?>(nil)

    /// Creates a simulator; nothing listens until `run()`.
    public init(configuration: SimulatorConfiguration, logger: Logger = Logger(label: "zoom-simulator")) throws {
        self.configuration = configuration
        self.logger = logger
        self.endpointBox = EndpointBox(host: configuration.host, scheme: configuration.scheme)
        self.oauth = OAuthAuthority(clientID: configuration.clientID, clientSecret: configuration.clientSecret,
            accessLifetime: configuration.accessTokenLifetime, codeLifetime: configuration.authorizationCodeLifetime)
        self.webhooks = WebhookDispatcher(signer: WebhookSigner(secretToken: configuration.webhookSecretToken),
            url: configuration.webhookURL, timeout: configuration.webhookTimeout, logger: logger)
        let frame = configuration.audioFrameMilliseconds
        let settings = StreamSettings(
            clientID: configuration.clientID, clientSecret: configuration.clientSecret, accountID: configuration.accountID,
            agentUserID: configuration.agentUserID, webhooksNameAgents: configuration.webhooksNameAgents,
            keepAliveMisses: configuration.keepAliveMisses, mediaReconnectWindow: configuration.mediaReconnectWindow,
            signalingReconnectWindow: configuration.signalingReconnectWindow,
            frameMilliseconds: frame, bufferFrames: Int(configuration.audioBufferLimit.milliseconds) / frame)
        self.registry = EngagementRegistry(settings: settings, webhooks: webhooks)
        self.pacer = MediaPacer(frameMilliseconds: configuration.audioFrameMilliseconds)
        guard configuration.audioSampleRate == 16_000, frame == 20 else {
            throw SimulatorError.unsupportedAudioFormat("only 16 kHz audio in 20 ms frames is simulated")
        }
        if case .generated(let caPath) = configuration.tls {
            let generated = try GeneratedCertificates(host: configuration.host, ipSAN: configuration.generatedCertificateHasIPSAN)
            if let caPath { try generated.caPEM.write(toFile: caPath, atomically: true, encoding: .utf8) }
            certificates = generated
        } else {
            certificates = nil
        }
    }

    /// The CA certificate (PEM) that signed the generated `wss://` certificate, for clients to trust.
    public var generatedCACertificatePEM: String? { certificates?.caPEM }

    // MARK: Service

    /// Serves every listener until cancelled or until graceful shutdown begins.
    public func run() async throws {
        let tls = try serverTLSConfiguration()
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                let httpApp = self.makeHTTPApplication()
                let primary = try self.makeRTMSApplication(listener: 0, port: self.configuration.rtmsPort, tls: tls)
                let secondary = try self.makeRTMSApplication(listener: 1, port: self.configuration.failoverRTMSPort, tls: tls)
                group.addTask { try await httpApp.run() }
                // The RTMS listeners must not see graceful shutdown: the WebSocket library would close every socket
                // at once, racing the orderly end of each call below (and cutting off frames already sent).
                group.addTask { try await Self.shieldedFromGracefulShutdown { try await primary.run() } }
                group.addTask { try await Self.shieldedFromGracefulShutdown { try await secondary.run() } }
                group.addTask { await self.webhooks.run(client: http) }
                group.addTask { await self.pacer.run() }
                group.addTask {
                    // Reconnect windows are enforced by one sweep rather than a timer per stream.
                    while (try? await Task.sleep(for: .milliseconds(200))) != nil { await self.registry.expireWindows() }
                }
                group.addTask {
                    let endpoints = try await self.endpointBox.wait()
                    await self.registry.setSignalingURLs(endpoints.signalingURLs)
                    await self.oauth.setAPIURL(endpoints.apiBaseURL)
                    await self.endpointBox.markConfigured()
                }
                group.addTask {
                    // Graceful shutdown hangs up every call first, so the relay sees stop webhooks and clean closes.
                    try await gracefulShutdown()
                    await self.registry.endAllEngagements()
                    await self.webhooks.waitUntilIdle(timeout: .seconds(5))
                    await self.registry.waitForConnectionsToClose(timeout: .seconds(3))
                    throw CancellationError()
                }
                do {
                    try await group.next()
                    // Anything but the set-up task ending means the simulator is done.
                    while let _ = try await group.next() {}
                } catch {
                    // A listener that cannot bind: tell whoever waits for the endpoints (and the set-up task).
                    await self.endpointBox.fail(error)
                    throw error
                }
            }
        } catch is CancellationError {
        } catch {
            try? await http.shutdown()
            throw error
        }
        try? await http.shutdown()
    }

    /// Runs `body` outside the service group's graceful-shutdown signal (a task-local every child task inherits),
    /// still cancelled with the caller.
    private static func shieldedFromGracefulShutdown(_ body: @escaping @Sendable () async throws -> Void) async throws {
        let task = Task.detached { try await body() }
        try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }

    /// Waits until all listeners are bound and returns their URLs; throws the listener's error when one cannot
    /// bind (a port in use).
    public func endpoints() async throws -> SimulatorEndpoints {
        try await endpointBox.waitConfigured()
    }

    // MARK: Engagements and streams

    /// Creates an active engagement (a call `agent` answered; the configured agent by default) and sends
    /// `contact_center.engagement_started`.
    @discardableResult
    public func createEngagement(id: String? = nil, agent: String? = nil) async -> String {
        await registry.createEngagement(id: id, agent: agent)
    }

    /// Ends an engagement: its stream stops (reason 21) and `contact_center.engagement_ended` is sent.
    public func endEngagement(_ engagementID: String) async throws {
        do { try await registry.endEngagement(engagementID) } catch { throw SimulatorError(error) }
    }

    /// Starts RTMS for an engagement, as `PUT …/rtms_app/status {"action":"start"}` does: a new stream id and a
    /// signed `voice_rtms_started` carrying the signaling URL.
    @discardableResult
    public func startStream(engagementID: String) async throws -> StartedStream {
        do {
            let started = try await registry.startStream(engagementID: engagementID)
            return StartedStream(engagementID: engagementID, streamID: started.streamID, serverURL: started.serverURL,
                signature: RTMSSignature.compute(clientID: configuration.clientID, clientSecret: configuration.clientSecret,
                    instanceID: engagementID, streamID: started.streamID))
        } catch { throw SimulatorError(error) }
    }

    /// Applies a REST action to the engagement's stream (the same path as the REST endpoint).
    public func control(engagementID: String, action: StreamAction) async throws {
        do { try await applyControl(engagementID, action) } catch { throw SimulatorError(error) }
    }

    public func stopStream(engagementID: String) async throws { try await control(engagementID: engagementID, action: .stop) }
    public func pauseStream(engagementID: String) async throws { try await control(engagementID: engagementID, action: .pause) }
    public func resumeStream(engagementID: String) async throws { try await control(engagementID: engagementID, action: .resume) }

    private func applyControl(_ engagementID: String, _ action: StreamAction) async throws(EngagementRegistry.ControlError) {
        switch action {
        case .start:
            _ = try await registry.startStream(engagementID: engagementID)
        case .stop:
            await try registry.liveStream(engagementID: engagementID).end(.manualAPIStop)
        case .pause:
            guard await try registry.liveStream(engagementID: engagementID).pause() else { throw .invalidState("RTMS is already paused") }
        case .resume:
            guard await try registry.liveStream(engagementID: engagementID).resume() else { throw .invalidState("RTMS is not paused") }
        }
    }

    // MARK: Failure injection

    /// Drops the stream's media sockets (no close frame): event 7 and stream state 2 / reason 14 on signaling;
    /// a media reconnect within `mediaReconnectWindow` resumes the audio, with the missed frames flushed.
    public func dropMedia(engagementID: String) async throws {
        await try stream(engagementID).dropMedia()
    }

    /// Drops signaling and media and sends `voice_rtms_interrupted`; a full reconnect within
    /// `signalingReconnectWindow` resumes the stream.
    public func dropSignaling(engagementID: String) async throws {
        await try stream(engagementID).dropSignaling()
    }

    /// Simulates an RTMS server failure: all sockets drop and a new `voice_rtms_started` for the same stream points
    /// at the other RTMS listener. Returns the new signaling URL.
    @discardableResult
    public func failover(engagementID: String) async throws -> String {
        do { return try await registry.failover(engagementID: engagementID) } catch { throw SimulatorError(error) }
    }

    /// Mutes one party (0 agent, 1 caller) for a while: no packets, so its timestamps jump.
    public func injectSilence(engagementID: String, channel: Int, duration: Duration) async throws {
        guard SimulatedAudio.channelIDs.indices.contains(channel) else { throw SimulatorError.invalidArgument("unknown channel \(channel)") }
        await try stream(engagementID).silence(channel: channel, frames: Int(duration.milliseconds) / configuration.audioFrameMilliseconds)
    }

    /// Drops every socket of the stream without close frames, messages or webhooks; a full reconnect is accepted.
    public func abruptClose(engagementID: String) async throws {
        await try stream(engagementID).abruptClose()
    }

    /// Stops sending keep-alive requests on the stream's current sockets without closing them (a half-dead Zoom
    /// server): signaling falls silent while media keeps flowing. Missing answers are not counted against the
    /// client for those sockets, and sockets opened later get keep-alives again.
    public func stallKeepAlives(engagementID: String) async throws {
        await try stream(engagementID).stallKeepAlives()
    }

    /// Sends arbitrary WebSocket frames (garbage: not JSON, wrong types, unknown messages, binary junk) on the
    /// stream's signaling socket and/or each of its media sockets, between the regular messages. Returns how many
    /// sockets they went to.
    @discardableResult
    public func sendRawFrames(engagementID: String, _ frames: [RawFrame], signaling: Bool = true, media: Bool = true) async throws -> Int {
        let encoded = frames.map { frame -> (WebSocketOpcode, ByteBuffer) in
            switch frame {
            case .text(let text): (.text, ByteBuffer(string: text))
            case .binary(let bytes): (.binary, ByteBuffer(bytes: bytes))
            }
        }
        return await try stream(engagementID).sendRaw(encoded, signaling: signaling, media: media)
    }

    /// Makes `PUT …/rtms_app/status` fail (an HTTP status, e.g. 503) or answer late, until set back to nil.
    public func setRESTFault(_ fault: RESTFault?) { restFault.withLockedValue { $0 = fault } }

    /// Pushes a ZCC voice event (hold, unhold, …) for a party if the client subscribed to it.
    @discardableResult
    public func sendVoiceEvent(engagementID: String, _ type: ZCCVoiceEventType, channel: Int) async throws -> Bool {
        await try stream(engagementID).pushVoiceEvent(type, channel: channel)
    }

    /// Sends `endpoint.url_validation` to the webhook URL and checks the answer.
    public func validateWebhookEndpoint() async -> Bool {
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        let ok = await webhooks.validateEndpoint(client: client)
        try? await client.shutdown()
        return ok
    }

    /// A valid access token without going through `/oauth/authorize` (tests, the demo).
    public func mintAccessToken() async -> String { await oauth.mintAccessToken() }

    // MARK: Introspection

    /// What the simulator knows about a stream, live or stopped.
    public func streamStatus(streamID: String) async -> StreamStatus? {
        guard let stream = await registry.stream(id: streamID) else { return nil }
        let sent = await stream.framesSent
        return StreamStatus(
            streamID: streamID, engagementID: stream.engagementID, phase: await stream.phase, paused: await stream.paused,
            signalingConnected: await stream.isSignalingConnected, mediaConnections: await stream.mediaConnectionCount,
            signalingConnectionsAccepted: await stream.signalingAccepted, mediaConnectionsAccepted: await stream.mediaAccepted,
            framesSent: Dictionary(uniqueKeysWithValues: sent.enumerated().map { (SimulatedAudio.channelID($0.offset), $0.element) }),
            transcriptsSent: await stream.transcriptsSent)
    }

    /// The webhooks delivered so far, in order, with the HTTP status each got (nil: unreachable).
    public func webhookOutcomes() async -> [(event: WebhookEventName, status: Int?)] {
        await webhooks.outcomes.map { ($0.event, $0.status) }
    }

    /// How many streams are live.
    public func liveStreamCount() async -> Int { await registry.liveStreamCount }

    /// Ends every live stream with the given reason (used when the `simulate` command shuts down).
    public func stopAllStreams(reason: RTMSStopReason = .manualAPIStop) async { await registry.stopAll(reason: reason) }

    private func stream(_ engagementID: String) async throws -> SimulatedStream {
        do { return try await registry.liveStream(engagementID: engagementID) } catch { throw SimulatorError(error) }
    }

    // MARK: Listeners

    private func serverTLSConfiguration() throws -> TLSConfiguration? {
        switch configuration.tls {
        case .none:
            return nil
        case .generated:
            return try certificates?.serverConfiguration()
        case .files(let chainPath, let keyPath):
            let chain = try NIOSSLCertificate.fromPEMFile(chainPath).map { NIOSSLCertificateSource.certificate($0) }
            return TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .file(keyPath))
        }
    }

    /// Hummingbird logs cancelled connections as errors when the simulator stops; keep that out of normal output.
    private var serverLogger: Logger {
        var logger = logger
        if logger.logLevel > .debug { logger.logLevel = .critical }
        return logger
    }

    private func makeHTTPApplication() -> some ApplicationProtocol {
        let router = Router()
        let routes = ZoomHTTPRoutes(oauth: oauth, registry: registry, control: { [self] engagementID, action throws(EngagementRegistry.ControlError) in
            try await self.applyControl(engagementID, action)
        }, clientID: configuration.clientID, accountID: configuration.accountID, authorizingUser: configuration.authorizingUser, fault: { [restFault] in restFault.withLockedValue { $0 } })
        routes.register(on: router)
        let box = endpointBox
        return Application(
            router: router, configuration: .init(address: .hostname(configuration.host, port: configuration.httpPort)),
            onServerRunning: { channel in await box.setHTTPPort(channel.localAddress?.port ?? 0) }, logger: serverLogger)
    }

    private func makeRTMSApplication(listener: Int, port: Int, tls: TLSConfiguration?) throws -> some ApplicationProtocol {
        let box = endpointBox
        let handler = RTMSConnectionHandler(registry: registry, pacer: pacer, listener: listener, configuration: configuration,
            mediaURLs: { await box.mediaURLs(listener: listener) }, logger: logger)
        let upgrade = HTTPServerBuilder.http1WebSocketUpgrade(
            configuration: .init(http1: .init(), ws: .init(maxFrameSize: 1 << 20))
        ) { request, channel, _ in handler.shouldUpgrade(request, channel: channel) }
        let server = try tls.map { try HTTPServerBuilder.tls(upgrade, tlsConfiguration: $0) } ?? upgrade
        return Application(
            router: Router(), server: server, configuration: .init(address: .hostname(configuration.host, port: port)),
            onServerRunning: { channel in await box.setRTMSPort(listener: listener, port: channel.localAddress?.port ?? 0) },
            logger: serverLogger)
    }
}
