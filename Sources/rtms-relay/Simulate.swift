import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import ZoomSimulator

/// `rtms-relay simulate`: the Zoom simulator on its own, as a fake Zoom for a relay running elsewhere (local
/// development, load tests, the conformance test with Zoom's official SDK).
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a fake Zoom (OAuth, REST, signed webhooks, RTMS servers) and play N two-party calls to a relay."
    )

    @Option(help: "Relay base URL; webhooks go to {relay}{webhook-path}. Without it no webhooks are sent.")
    var relay: String?

    @Option(help: "Path of the relay's Zoom webhook endpoint.")
    var webhookPath: String = "/api/webhooks/zoom"

    @Option(help: "Concurrent two-party calls to start (0: start none, drive it over REST).")
    var calls: Int = 1

    @Option(help: "Stop the calls and exit after this many seconds (default: run until Ctrl-C).")
    var seconds: Double?

    @Option(help: "Interface to bind and to write into URLs.")
    var host: String = "127.0.0.1"

    @Option(help: "Port for OAuth and REST (0: any free port).")
    var httpPort: Int = 0

    @Option(help: "Port of the RTMS signaling/media listener (0: any free port).")
    var rtmsPort: Int = 0

    @Option(help: "Port of the failover RTMS listener (0: any free port).")
    var failoverPort: Int = 0

    @Option(help: "RTMS transport: none (ws://), generated (wss:// with a generated certificate) or files.")
    var tls: String = "none"

    @Option(help: "With --tls generated: write the CA certificate (PEM) clients must trust here.")
    var caOut: String?

    @Option(help: "With --tls files: certificate chain PEM.")
    var cert: String?

    @Option(help: "With --tls files: private key PEM.")
    var key: String?

    @Option(help: "OAuth client id (default: $ZOOM_APP_CLIENT_ID, else a demo value).")
    var clientId: String?

    @Option(help: "OAuth client secret (default: $ZOOM_APP_CLIENT_SECRET, else a demo value).")
    var clientSecret: String?

    @Option(help: "Webhook secret token (default: $ZOOM_SECRET_TOKEN, else a demo value).")
    var secretToken: String?

    @Option(help: "Seconds between keep-alive requests on every socket.")
    var keepAlive: Double = 10

    @Option(help: "Access-token lifetime in seconds.")
    var tokenLifetime: Double = 3600

    @Option(help: "Seconds a dropped media connection may take to come back.")
    var mediaReconnectWindow: Double = 65

    @Flag(help: "Send JSON in binary WebSocket frames instead of text frames.")
    var binaryFrames = false

    @Flag(help: "Skip the endpoint.url_validation request at start.")
    var skipValidation = false

    @Option(help: "Write the bound endpoints and started streams as JSON to this file once ready.")
    var readyFile: String?

    @Option(help: "At exit, write what was sent (streams, audio frames, connections accepted, each stream's stop reason) as JSON to this file.")
    var summaryFile: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func run() async throws {
        let configuration: SimulatorConfiguration
        do {
            configuration = try makeConfiguration()
        } catch let error as InputError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
        var logger = Logger(label: "rtms-relay.simulate")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let log = logger

        let simulator = try ZoomSimulator(configuration: configuration, logger: logger)
        let started = StartedStreams()
        let group = ServiceGroup(configuration: .init(services: [simulator], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await withThrowingTaskGroup(of: Bool.self) { tasks in
                tasks.addTask {
                    try await group.run()
                    return true
                }
                tasks.addTask {
                    if try await self.drive(simulator, started: started, logger: log) { await group.triggerGracefulShutdown() }
                    return false
                }
                // The simulator hangs up every call during graceful shutdown; wait for it, not for the driver.
                for try await serviceEnded in tasks where serviceEnded {
                    tasks.cancelAll()
                    break
                }
            }
        } catch {
            let ports = "a port of the simulator (--http-port \(httpPort), --rtms-port \(rtmsPort), --failover-port \(failoverPort))"
            throw CommandFailure.portInUse(error, port: ports) ?? error
        }
        if let summaryFile { try await writeSummary(summaryFile, simulator: simulator, streams: started.list) }
    }

    /// The streams `drive` started, for the summary written at exit.
    private actor StartedStreams {
        var list: [StartedStream] = []
        func append(_ stream: StartedStream) { list.append(stream) }
    }

    /// Totals over every started stream, once they have all stopped: what a load test compares the relay's
    /// counts with (`rtms-relay bench`).
    private func writeSummary(_ path: String, simulator: ZoomSimulator, streams: [StartedStream]) async throws {
        var audioFrames = 0, signaling = 0, media = 0, stopped = 0
        var perStream: [String: Int] = [:], stopReasons: [String: Int] = [:]
        for stream in streams {
            guard let status = await simulator.streamStatus(streamID: stream.streamID) else { continue }
            perStream[stream.streamID] = status.framesSent.values.reduce(0, +)
            audioFrames += status.framesSent.values.reduce(0, +)
            signaling += status.signalingConnectionsAccepted
            media += status.mediaConnectionsAccepted
            if case .stopped(let reason) = status.phase {
                stopped += 1
                stopReasons[stream.streamID] = reason.rawValue
            }
        }
        try SimulatorSummary(streams: streams.count, streamsStopped: stopped, audioFramesSent: audioFrames,
                             signalingConnectionsAccepted: signaling, mediaConnectionsAccepted: media,
                             audioFramesSentPerStream: perStream, stopReasonPerStream: stopReasons).write(to: path)
    }

    /// Starts the calls, writes the ready file, waits, then stops everything.
    /// Returns whether the run should end now (`--seconds` elapsed); otherwise it runs until Ctrl-C.
    private func drive(_ simulator: ZoomSimulator, started streams: StartedStreams, logger: Logger) async throws -> Bool {
        let endpoints = try await simulator.endpoints()
        logger.info("Zoom simulator ready: oauth \(endpoints.oauthBaseURL), api \(endpoints.apiBaseURL), rtms \(endpoints.signalingURLs[0])")
        if relay != nil, !skipValidation {
            let valid = await simulator.validateWebhookEndpoint()
            if valid { logger.info("webhook endpoint validated") } else { logger.warning("webhook endpoint failed url_validation") }
        }
        var started: [StartedStream] = []
        for index in 0..<calls {
            let engagement = await simulator.createEngagement()
            let stream = try await simulator.startStream(engagementID: engagement)
            started.append(stream)
            await streams.append(stream)
            // Ramp large runs so the relay is not hit by a thousand webhooks in the same millisecond.
            if index % 50 == 49 { try await Task.sleep(for: .milliseconds(100)) }
        }
        if calls > 0 { logger.info("started \(calls) call(s)") }
        if let readyFile { try writeReadyFile(readyFile, endpoints: endpoints, streams: started) }
        guard let seconds else { return false }
        try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
        return true
    }

    private func writeReadyFile(_ path: String, endpoints: SimulatorEndpoints, streams: [StartedStream]) throws {
        let object: [String: Any] = [
            "oauth_url": endpoints.oauthBaseURL, "api_url": endpoints.apiBaseURL,
            "signaling_urls": endpoints.signalingURLs,
            "streams": streams.map { ["engagement_id": $0.engagementID, "rtms_stream_id": $0.streamID, "server_urls": $0.serverURL] },
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    private struct InputError: Error { var message: String }

    private func makeConfiguration() throws -> SimulatorConfiguration {
        let env = ProcessInfo.processInfo.environment
        var configuration = SimulatorConfiguration()
        guard calls >= 0 else { throw InputError(message: "--calls must be 0 or more") }
        if let seconds, seconds <= 0 { throw InputError(message: "--seconds must be positive") }
        guard keepAlive > 0, tokenLifetime > 0, mediaReconnectWindow > 0 else {
            throw InputError(message: "--keep-alive, --token-lifetime and --media-reconnect-window must be positive")
        }
        for (name, port) in [("--http-port", httpPort), ("--rtms-port", rtmsPort), ("--failover-port", failoverPort)] where !(0...65535).contains(port) {
            throw InputError(message: "\(name) must be between 0 and 65535")
        }
        if let relay {
            guard let url = URL(string: relay), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
                throw InputError(message: "--relay must be an http(s) URL, got '\(relay)'")
            }
            configuration.webhookURL = relay.hasSuffix("/") ? String(relay.dropLast()) + webhookPath : relay + webhookPath
        }
        switch tls {
        case "none": configuration.tls = .none
        case "generated": configuration.tls = .generated(caOutputPath: caOut)
        case "files":
            guard let cert, let key else { throw InputError(message: "--tls files needs --cert and --key") }
            configuration.tls = .files(certificateChainPath: cert, privateKeyPath: key)
        default: throw InputError(message: "--tls must be none, generated or files, got '\(tls)'")
        }
        configuration.host = host
        configuration.httpPort = httpPort
        configuration.rtmsPort = rtmsPort
        configuration.failoverRTMSPort = failoverPort
        configuration.clientID = clientId ?? env["ZOOM_APP_CLIENT_ID"] ?? "SIMCLIENTID"
        configuration.clientSecret = clientSecret ?? env["ZOOM_APP_CLIENT_SECRET"] ?? "SIMCLIENTSECRET"
        configuration.webhookSecretToken = secretToken ?? env["ZOOM_SECRET_TOKEN"] ?? "SIMWEBHOOKSECRET"
        configuration.keepAliveInterval = .milliseconds(Int(keepAlive * 1000))
        configuration.accessTokenLifetime = .milliseconds(Int(tokenLifetime * 1000))
        configuration.mediaReconnectWindow = .milliseconds(Int(mediaReconnectWindow * 1000))
        configuration.frameEncoding = binaryFrames ? .binary : .text
        return configuration
    }
}
