import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import RTMSIngest
import RelayCore
import RelayServer
import RelayTesting
import ServiceLifecycle
import Testing
import ZoomAPI
import ZoomSimulator

/// The relay's ingest path (HTTP webhook route, receiver, ingest service, hub with a recording sink) and the Zoom
/// simulator, both live on loopback ports chosen by the OS, with timers shortened for tests.
struct RelayHarness {
    static let webhookSecret = "SIMWEBHOOKSECRET"

    let simulator: ZoomSimulator
    let relay: Relay
    /// Every line the relay and simulator logged.
    let logs: LogCapture
    let sink: RecordingSink
    let registry: EngagementRegistry
    let ingest: IngestService
    let receiver: WebhookReceiver
    let relayPort: Int

    var webhookURL: String { "http://127.0.0.1:\(relayPort)/api/webhooks/zoom" }

    /// Runs `body` against a fresh relay and simulator, then shuts both down gracefully (ingest first, as the
    /// service group does in production).
    static func run(allowedHosts: [String] = ["127.0.0.1"], keepAliveInterval: Duration = .seconds(1), tls: Bool = false,
                    accessTokenLifetime: Duration = .seconds(3600),
                    _ body: @Sendable (RelayHarness) async throws -> Void) async throws {
        // Everything is logged at trace level into the capture, so tests can check no secret leaks.
        let logs = LogCapture()
        let logger = logs.logger()
        // The simulator's HTTP port is chosen first, so the relay's config can point OAuth and REST at it.
        let simulatorHTTPPort = try freeLoopbackPort()
        // With TLS, the simulator writes its generated CA here and the relay trusts it through `zoom.ca_file`.
        let caFile = FileManager.default.temporaryDirectory.appendingPathComponent("rtms-ca-\(UUID().uuidString).pem").path
        defer { try? FileManager.default.removeItem(atPath: caFile) }
        let yaml = """
            server: {host: 127.0.0.1, port: 0, allow_anonymous: true}
            zoom:
              client_id: SIMCLIENTID
              client_secret: SIMCLIENTSECRET
              webhook_secret: \(webhookSecret)
              oauth_url: http://127.0.0.1:\(simulatorHTTPPort)
              api_url: http://127.0.0.1:\(simulatorHTTPPort)/v2
              rtms_allowed_hosts: [\(allowedHosts.map { "\"\($0)\"" }.joined(separator: ", "))]
              ca_file: "\(tls ? caFile : "")"
            token_store: {path: \(FileManager.default.temporaryDirectory.path)/rtms-tokens-\(UUID().uuidString).sqlite}
            sinks:
              recording:
                type: recording
                queue: {capacity: 1000000, overflow: block}
            """
        var sinks = SinkRegistry()
        sinks.register(RecordingSink.self)
        let relayConfiguration = try ConfigLoader(registry: sinks, environment: [:]).parse(yaml: yaml, file: "harness.yaml", environment: [:])
        let relay = try Relay(configuration: relayConfiguration, sinkRegistry: sinks, logger: logger) { configuration in
            configuration.reconnectBase = .milliseconds(100)
            configuration.reconnectMaximum = .seconds(1)
            configuration.maxReconnectAttempts = 20
            configuration.livenessTimeout = .seconds(5)
        }
        let sink = try #require(relay.sinkServices.service("recording", as: RecordingSink.self))
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
                // wss:// by host name, as with Zoom: the WebSocket client sends the URL's host as SNI, and SNI
                // cannot carry an IP address.
                simConfiguration.host = "localhost"
                simConfiguration.tls = .generated(caOutputPath: caFile)
            }
            simConfiguration.mediaReconnectWindow = .seconds(20)
            simConfiguration.signalingReconnectWindow = .seconds(20)
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

    func events(_ type: EventType, stream: String? = nil) -> [StreamEvent] {
        sink.events.filter { $0.type == type && (stream == nil || $0.streamID == stream) }
    }

    func waitFor(_ type: EventType, stream: String? = nil, count: Int = 1, timeout: Duration = .seconds(30)) async throws {
        try await waitUntil(timeout: timeout, "\(count)× \(type.rawValue) (have \(events(type, stream: stream).count)); events: \(summary())") {
            self.events(type, stream: stream).count >= count
        }
    }

    /// Audio frames received per channel for a stream, in arrival order.
    func audio(stream: String) -> [String: [AudioFrame]] {
        var result: [String: [AudioFrame]] = [:]
        for event in sink.events where event.streamID == stream {
            if case .audio(let frame) = event.kind { result[frame.channel, default: []].append(frame) }
        }
        return result
    }

    func waitForAudio(stream: String, perChannel count: Int, timeout: Duration = .seconds(30)) async throws {
        try await waitUntil(timeout: timeout, "\(count) audio frames per channel") {
            let audio = self.audio(stream: stream)
            return SimulatedAudio.channelIDs.allSatisfy { (audio[$0]?.count ?? 0) >= count }
        }
    }

    /// Non-audio events, for failure messages.
    func summary() -> String {
        sink.events.filter { $0.type != .audio }.map { "\($0.type.rawValue)\($0.streamID.map { "[\($0)]" } ?? "")" }.joined(separator: ", ")
    }

    /// POSTs a webhook body with the given signature headers to the relay over HTTP; returns the status and body.
    func post(body: String, timestamp: String, signature: String) async throws -> (Int, String) {
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
    func signedPost(body: String, at seconds: Int64 = Int64(Date().timeIntervalSince1970)) async throws -> (Int, String) {
        let signature = WebhookVerifier(secretToken: Self.webhookSecret).signature(timestamp: String(seconds), body: Array(body.utf8))
        return try await post(body: body, timestamp: String(seconds), signature: signature)
    }
}

/// Checks the audio of one stream against what the simulator says it sent: per channel, every frame exactly
/// once, in order, byte for byte (`SimulatedAudio.frame`), with timestamps 20 ms apart.
func expectExactAudio(_ harness: RelayHarness, streamID: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let status = try #require(await harness.simulator.streamStatus(streamID: streamID))
    let audio = harness.audio(stream: streamID)
    for (index, channelID) in SimulatedAudio.channelIDs.enumerated() {
        let frames = audio[channelID] ?? []
        #expect(frames.count == status.framesSent[channelID], "channel \(channelID): received \(frames.count), simulator sent \(status.framesSent[channelID] ?? -1)", sourceLocation: sourceLocation)
        guard let first = frames.first else { continue }
        // Frame k of a channel carries timestamp start + 20·k (pauses skip frames, so k is read from the timestamp).
        var mismatches = 0
        var previous = first.timestamp - 20
        for frame in frames {
            let delta = frame.timestamp - first.timestamp
            let expected = delta % 20 == 0 ? SimulatedAudio.frame(channel: index, index: Int(delta / 20)) : []
            if frame.timestamp <= previous || Array(frame.pcm.readableBytesView) != expected { mismatches += 1 }
            previous = frame.timestamp
        }
        #expect(mismatches == 0, "channel \(channelID): \(mismatches) of \(frames.count) frames out of order or not byte-exact", sourceLocation: sourceLocation)
        #expect(frames.allSatisfy { $0.format == AudioFormat(sampleRate: 16_000, channels: 1, codec: "L16") }, sourceLocation: sourceLocation)
    }
}
