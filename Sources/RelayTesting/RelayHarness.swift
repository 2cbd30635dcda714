import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import RTMSIngest
import RelayCore
import RelayServer
import ServiceLifecycle
import ZoomAPI
import ZoomWebhooks
import ZoomSimulator

/// The relay's ingest path (HTTP webhook route, receiver, ingest service, hub with a recording sink) and the Zoom
/// simulator, both live on loopback ports chosen by the OS, with timers shortened for tests.
public struct RelayHarness: Sendable {
    public static let webhookSecret = "SIMWEBHOOKSECRET"

    public let simulator: ZoomSimulator
    public let relay: Relay
    /// Every line the relay and simulator logged.
    public let logs: LogCapture
    /// The `recording` sink, which sees every event.
    public let sink: RecordingSink
    public let registry: EngagementRegistry
    public let ingest: IngestService
    public let receiver: WebhookReceiver
    public let relayPort: Int

    public var webhookURL: String { "http://127.0.0.1:\(relayPort)/api/webhooks/zoom" }

    /// Runs `body` against a fresh relay and simulator, then shuts both down gracefully (ingest first, as the
    /// service group does in production).
    /// - Parameters:
    ///   - sinks: sink types the relay knows besides `recording` (e.g. `BuiltInSinks.registry` plus a custom one);
    ///   - sinksYAML: more entries under `sinks:` (each id indented by two spaces), using those types;
    ///   - tlsHost: with `tls`, the host in the simulator's `wss://` URLs (`127.0.0.1` tests TLS to an IP address);
    ///   - certificateHasIPSAN: with `tls`, whether the simulator's generated certificate names an IP address;
    ///   - server: the `server:` section (anonymous access on loopback by default);
    ///   - extraYAML: more top-level sections (e.g. `access:`);
    ///   - adjustSimulator: changes to the simulator's configuration (its users, whether webhooks name agents);
    ///   - transcripts: `zoom.transcripts`, whether the relay asks for transcripts as well as audio;
    ///   - zoomYAML: more keys of the `zoom:` section, one per line, not indented (e.g. `proxy: http://…`).
    public static func run(allowedHosts: [String] = ["127.0.0.1"], keepAliveInterval: Duration = .seconds(1), tls: Bool = false,
                           tlsHost: String = "localhost", certificateHasIPSAN: Bool = true,
                           accessTokenLifetime: Duration = .seconds(3600), sinks: SinkRegistry = SinkRegistry(), sinksYAML: String = "",
                           server: String = "{host: 127.0.0.1, port: 0, allow_anonymous: true}", extraYAML: String = "",
                           adjustSimulator: @Sendable (inout SimulatorConfiguration) -> Void = { _ in }, transcripts: Bool = true,
                           zoomYAML: String = "", _ body: @Sendable (RelayHarness) async throws -> Void) async throws {
        // Everything is logged at trace level into the capture, so tests can check no secret leaks.
        let logs = LogCapture()
        let logger = logs.logger()
        // The simulator's HTTP port is chosen first, so the relay's config can point OAuth and REST at it.
        let simulatorHTTPPort = try freeLoopbackPort()
        // With TLS, the simulator writes its generated CA here and the relay trusts it through `zoom.ca_file`.
        let caFile = FileManager.default.temporaryDirectory.appendingPathComponent("rtms-ca-\(UUID().uuidString).pem").path
        defer { try? FileManager.default.removeItem(atPath: caFile) }
        let yaml = """
            server: \(server)
            \(extraYAML)
            zoom:
              client_id: SIMCLIENTID
              client_secret: SIMCLIENTSECRET
              webhook_secret: \(webhookSecret)
              oauth_url: http://127.0.0.1:\(simulatorHTTPPort)
              api_url: http://127.0.0.1:\(simulatorHTTPPort)/v2
              rtms_allowed_hosts: [\(allowedHosts.map { "\"\($0)\"" }.joined(separator: ", "))]
              ca_file: "\(tls ? caFile : "")"
              allow_insecure_rtms: \(!tls)
              transcripts: \(transcripts)
            \(zoomYAML.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            token_store: {path: \(FileManager.default.temporaryDirectory.path)/rtms-tokens-\(UUID().uuidString).sqlite}
            sinks:
              recording:
                type: recording
                queue: {capacity: 1000000, overflow: block}
            \(sinksYAML)
            """
        var sinks = sinks
        sinks.register(RecordingSink.self)
        let relayConfiguration = try ConfigLoader(registry: sinks, environment: [:]).parse(yaml: yaml, file: "harness.yaml", environment: [:])
        let relay = try Relay(configuration: relayConfiguration, sinkRegistry: sinks, logger: logger) { configuration in
            configuration.reconnectBase = .milliseconds(100)
            configuration.reconnectMaximum = .seconds(1)
            configuration.maxReconnectAttempts = 20
            configuration.livenessTimeout = .seconds(5)
        }
        guard let sink = relay.sink("recording", as: RecordingSink.self) else { throw TimeoutError(what: "the recording sink") }
        let registry = relay.registry, ingest = relay.ingest, receiver = relay.webhooks
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)

        try await withThrowingTaskGroup(of: Void.self) { group in
            let relayGroup = relay.makeServiceGroup(gracefulShutdownSignals: [], onServerRunning: { portContinuation.yield($0) })
            group.addTask { try await relayGroup.run() }
            var iterator = ports.makeAsyncIterator()
            let port = await iterator.next() ?? 0

            var simConfiguration = SimulatorConfiguration()
            simConfiguration.webhookURL = "http://127.0.0.1:\(port)/api/webhooks/zoom"
            simConfiguration.keepAliveInterval = keepAliveInterval
            simConfiguration.httpPort = simulatorHTTPPort
            simConfiguration.accessTokenLifetime = accessTokenLifetime
            if tls {
                // wss:// by host name as with Zoom, or by IP address (then the relay sends no SNI and checks the IP SAN).
                simConfiguration.host = tlsHost
                simConfiguration.tls = .generated(caOutputPath: caFile)
                simConfiguration.generatedCertificateHasIPSAN = certificateHasIPSAN
            }
            simConfiguration.mediaReconnectWindow = .seconds(20)
            simConfiguration.signalingReconnectWindow = .seconds(20)
            adjustSimulator(&simConfiguration)
            let simulator = try ZoomSimulator(configuration: simConfiguration, logger: logger)
            group.addTask { try await simulator.run() }
            _ = try await simulator.endpoints()

            let harness = RelayHarness(simulator: simulator, relay: relay, logs: logs, sink: sink, registry: registry, ingest: ingest, receiver: receiver, relayPort: port)
            do {
                try await body(harness)
            } catch {
                await relayGroup.triggerGracefulShutdown()
                group.cancelAll()
                throw error
            }
            await relayGroup.triggerGracefulShutdown()
            // Let the relay finish its shutdown (STREAM_CLOSE_REQ etc.) while the simulator is still there.
            try await waitUntil(timeout: .seconds(20), "relay shutdown") { sink.finished }
            group.cancelAll()
        }
    }

    // MARK: Queries

    public func events(_ type: EventType, stream: String? = nil) -> [StreamEvent] {
        sink.events.filter { $0.type == type && (stream == nil || $0.streamID == stream) }
    }

    public func waitFor(_ type: EventType, stream: String? = nil, count: Int = 1, timeout: Duration = .seconds(30)) async throws {
        try await waitUntil(timeout: timeout, "\(count)× \(type.rawValue) (have \(events(type, stream: stream).count)); events: \(summary())") {
            self.events(type, stream: stream).count >= count
        }
    }

    /// Audio frames received per channel for a stream, in arrival order.
    public func audio(stream: String) -> [String: [AudioFrame]] {
        var result: [String: [AudioFrame]] = [:]
        for event in sink.events where event.streamID == stream {
            if case .audio(let frame) = event.kind { result[frame.channel, default: []].append(frame) }
        }
        return result
    }

    /// Transcript segments received for a stream, in arrival order.
    public func transcripts(stream: String) -> [Transcript] {
        sink.events.compactMap { event in
            guard event.streamID == stream, case .transcript(let transcript) = event.kind else { return nil }
            return transcript
        }
    }

    public func waitForAudio(stream: String, perChannel count: Int, timeout: Duration = .seconds(30)) async throws {
        try await waitUntil(timeout: timeout, "\(count) audio frames per channel") {
            let audio = self.audio(stream: stream)
            return SimulatedAudio.channelIDs.allSatisfy { (audio[$0]?.count ?? 0) >= count }
        }
    }

    /// Non-audio events, for failure messages.
    public func summary() -> String {
        sink.events.filter { $0.type != .audio }.map { "\($0.type.rawValue)\($0.streamID.map { "[\($0)]" } ?? "")" }.joined(separator: ", ")
    }

    /// POSTs a webhook body with the given signature headers to the relay over HTTP; returns the status and body.
    public func post(body: String, timestamp: String, signature: String) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: webhookURL)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "x-zm-request-timestamp", value: timestamp)
        request.headers.add(name: "x-zm-signature", value: signature)
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: bytes))
    }

    /// Signs like Zoom does, with the relay's secret.
    public func signedPost(body: String, at seconds: Int64 = Int64(Date().timeIntervalSince1970)) async throws -> (Int, String) {
        let signature = WebhookVerifier(secretToken: Self.webhookSecret).signature(timestamp: String(seconds), body: Array(body.utf8))
        return try await post(body: body, timestamp: String(seconds), signature: signature)
    }
}

