import ArgumentParser
import AsyncHTTPClient
import BuiltInSinks
import Foundation
import Logging
import Metrics
import Prometheus
import RelayCore
import RelayServer
import ServiceLifecycle
import UnixSignals
import ZoomSimulator

/// `rtms-relay demo`: the relay and the Zoom simulator in one process (README.md, "Command line").
///
/// The relay runs on the embedded defaults (web, WAV and SQLite sinks under `./data`) with Zoom pointed at
/// the in-process simulator: OAuth, REST, webhooks and RTMS all go over real loopback HTTP and WebSockets.
/// At start the demo runs the real OAuth authorization-code flow once (login → the simulator's authorize
/// page, which consents at once → callback → token exchange), so Start / Stop / Pause / Resume on the page
/// work without a click on "Connect to Zoom". Then it starts N two-party calls and prints the page's URL.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Relay and Zoom simulator in one process: N simulated calls, live on the agent page; WAVs and the archive in ./data."
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Port of the relay (the agent page is http://127.0.0.1:PORT/).")
    var port = 3001

    @Option(help: "Simulated two-party calls to start.")
    var engagements = 1

    @Option(help: "End the calls and exit after this many seconds (default: run until Ctrl-C).")
    var seconds: Double?

    @Option(help: "Serve the agent page from this folder instead of the copy built into the binary (for working on the page, e.g. Sources/RelayServer/Web).")
    var webRoot: String?

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
        guard (0...500).contains(engagements) else { throw ValidationError("--engagements must be between 0 and 500") }
        if let seconds, seconds <= 0 { throw ValidationError("--seconds must be positive") }
    }

    func run() async throws {
        let logger = try global.bootstrapLogging()
        let metrics = RelayMetrics()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))

        var simulatorConfiguration = SimulatorConfiguration()
        simulatorConfiguration.webhookURL = "http://127.0.0.1:\(port)/api/webhooks/zoom"
        let simulator = try ZoomSimulator(configuration: simulatorConfiguration, logger: Logger(label: "zoom-simulator"))

        // Trapped from the start, so Ctrl-C / SIGTERM at any moment ends the calls cleanly first (stop webhooks,
        // end times in the archive) rather than killing the relay under them.
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let calls = DemoCalls()
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { try await simulator.run(); return false }
            let endpoints = try await simulator.endpoints()
            var configuration = try relayConfiguration(simulator: simulatorConfiguration, endpoints: endpoints)
            if let webRoot { configuration.server.webRoot = webRoot }
            DescriptorBudget.raiseSoftLimit()
            let relay = try Relay(configuration: configuration, sinkRegistry: BuiltInSinks.registry, logger: logger, metrics: metrics)
            let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
            let relayGroup = relay.makeServiceGroup(gracefulShutdownSignals: [], onServerRunning: { portContinuation.yield($0) })
            group.addTask {
                var received = signals.makeAsyncIterator()
                guard await received.next() != nil else { return false }
                logger.info("ending the simulated calls (Ctrl-C again to quit at once)")
                async let ended: Void = {
                    await calls.endAll(simulator)
                    await relayGroup.triggerGracefulShutdown()
                }()
                // A second signal while the calls end or the relay shuts down: quit now. (When the demo ends, this
                // task is cancelled and the wait returns nil.)
                if await received.next() != nil { Foundation.exit(130) }
                await ended
                return false
            }
            let port = self.port
            group.addTask {
                // Ends the wait below when the relay never listens.
                defer { portContinuation.finish() }
                do { try await relayGroup.run() } catch {
                    throw CommandFailure.portInUse(error, port: "port \(port) (--port)") ?? CommandFailure.runtime("the relay stopped: \(error)")
                }
                return true
            }
            var iterator = ports.makeAsyncIterator()
            guard await iterator.next() != nil else {
                // The relay could not start: its task's error says why; the simulator goes too.
                group.cancelAll()
                while try await group.next() != nil {}
                return
            }
            group.addTask {
                try await drive(simulator, calls: calls, logger: logger)
                if seconds != nil { await relayGroup.triggerGracefulShutdown() }
                return false
            }
            // The relay's group ends after Ctrl-C / SIGTERM or --seconds; then the simulator goes too.
            while let relayFinished = try await group.next(), !relayFinished {}
            group.cancelAll()
        }
        logger.info("demo stopped; recordings in data/recordings, archive in data/archive.sqlite")
    }

    /// The embedded defaults, with Zoom pointed at the simulator and the browser API open on loopback.
    private func relayConfiguration(simulator: SimulatorConfiguration, endpoints: SimulatorEndpoints) throws -> RelayConfiguration {
        var configuration = try ConfigLoader(registry: BuiltInSinks.registry).loadEmbeddedDefaults()
        configuration.source = "<embedded defaults + demo>"
        configuration.server.host = "127.0.0.1"
        configuration.server.port = port
        configuration.server.publicURL = "http://127.0.0.1:\(port)"
        configuration.server.allowAnonymous = true
        configuration.zoom.clientID = simulator.clientID
        configuration.zoom.clientSecret = Secret(simulator.clientSecret)
        configuration.zoom.webhookSecret = Secret(simulator.webhookSecretToken)
        configuration.zoom.oauthURL = endpoints.oauthBaseURL
        configuration.zoom.apiURL = endpoints.apiBaseURL
        configuration.zoom.rtmsAllowedHosts = [simulator.host]
        configuration.zoom.caFile = ""
        configuration.zoom.allowInsecureRTMS = true  // the in-process simulator speaks ws://
        // The simulator's tokens are encrypted with its client secret: keep them apart from a real account's.
        configuration.tokenStore.path = "data/demo-tokens.sqlite"
        return configuration
    }

    /// Authorizes, validates the webhook endpoint, starts the calls, prints the URL; with --seconds, ends the
    /// calls when the time is up.
    private func drive(_ simulator: ZoomSimulator, calls: DemoCalls, logger: Logger) async throws {
        let base = "http://127.0.0.1:\(port)"
        try await authorize(base: base)
        if !(await simulator.validateWebhookEndpoint()) { logger.warning("the webhook endpoint failed Zoom's url_validation") }
        for index in 0..<engagements {
            let engagement = await simulator.createEngagement()
            guard await calls.add(engagement) else { return }
            try await simulator.startStream(engagementID: engagement)
            if index % 50 == 49 { try await Task.sleep(for: .milliseconds(100)) }
        }
        // Standard output is a file or pipe under tests: write the line in one unbuffered call.
        FileHandle.standardOutput.write(Data("rtms-relay demo: \(engagements) simulated call(s) live; open \(base)/ (Ctrl-C to stop)\n".utf8))
        guard let seconds else { return }
        try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
        await calls.endAll(simulator)
    }

    /// The real authorization-code flow against the simulator (anonymous on loopback has the operator's
    /// rights): start the login, then follow Zoom's consent and the callback's redirects.
    private func authorize(base: String) async throws {
        var login = HTTPClientRequest(url: base + "/api/auth/login")
        login.method = .POST
        login.headers.add(name: "Content-Type", value: "application/json")
        let started = try await HTTPClient.shared.execute(login, timeout: .seconds(10))
        let answer = try await started.body.collect(upTo: 1 << 16)
        struct Started: Decodable { var authorize_url: String }
        guard started.status == .ok, let url = try? JSONDecoder().decode(Started.self, from: answer).authorize_url else {
            throw CommandFailure.runtime("could not start the login with the relay: HTTP \(started.status.code) \(String(buffer: answer))")
        }
        let consent = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        _ = try await consent.body.collect(upTo: 1 << 20)
        let status = try await HTTPClient.shared.execute(HTTPClientRequest(url: base + "/api/auth/status"), timeout: .seconds(10))
        let body = String(buffer: try await status.body.collect(upTo: 1 << 16))
        guard body.contains(#""authenticated":true"#) else {
            throw CommandFailure.runtime("could not authorize with the simulated Zoom: \(body)")
        }
    }
}

/// The demo's calls, so that `--seconds` and a signal end the same ones, once.
actor DemoCalls {
    private var engagements: [String] = []
    private var ended = false

    /// Records a new call; false once the calls are being ended (start no more).
    func add(_ engagement: String) -> Bool {
        guard !ended else { return false }
        engagements.append(engagement)
        return true
    }

    /// Ends every call (stop and end webhooks go to the relay), then gives the webhooks a second to arrive.
    func endAll(_ simulator: ZoomSimulator) async {
        guard !ended else { return }
        ended = true
        for engagement in engagements { try? await simulator.endEngagement(engagement) }
        try? await Task.sleep(for: .seconds(1))
    }
}
