import ArgumentParser
import BuiltInSinks
import Foundation
import Logging
import RelayCore
import RelayServer
import ZoomSimulator

/// `rtms-relay bench` (BENCHMARKS.md states the target): the relay in this process, the Zoom simulator in a child process (so its CPU is
/// not counted as the relay's), N concurrent two-party calls over real loopback WebSockets, every selected sink on.
///
/// After every call is connected and a warm-up has passed, it measures a window of `--seconds`: audio frames
/// per second the relay ingested, the relay's CPU seconds (user + system, from `getrusage`) per million frames,
/// latency from each frame's Zoom timestamp (the moment the simulator scheduled it) to the slowest sink having
/// consumed it, and RSS. Then it ends the calls, lets every sink drain, and compares what the simulator says it
/// sent with what the relay received and what each sink consumed: frames lost.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load benchmark: N simulated two-party calls into the relay; frames/s, CPU per frame, latency, RSS, loss."
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Concurrent two-party calls (each sends two 20 ms frames every 20 ms: 100 frames/s).")
    var calls = 100

    @Option(help: "Length of the measurement window, in seconds.")
    var seconds = 30.0

    @Option(help: "Seconds to run after every call is connected, before measuring.")
    var warmup = 5.0

    @Option(help: "Sinks to run, by type, comma-separated: web, wav, sqlite, jsonl, redis; 'default' for the embedded defaults (web, wav, sqlite, jsonl); 'none'.")
    var sinks = "default"

    @Option(help: "Redis for the redis sink.")
    var redisURL = "redis://127.0.0.1:6379"

    @Option(help: "Folder for recordings, archive and logs (default: a fresh temporary folder, removed afterwards).")
    var dataDir: String?

    @Option(help: "Every sink's queue.batch_window_ms (0-1000; default: the config default), to weigh wake-ups against latency.")
    var batchWindowMs: Int?

    @Flag(help: "Also run the same calls against the floor client (the least any RTMS client must do) in this run, and report the relay's CPU per frame divided by the floor's.")
    var floor = false

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func validate() throws {
        guard (1...10_000).contains(calls) else { throw ValidationError("--calls must be between 1 and 10000") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more") }
        if let batchWindowMs, !(0...QueuePolicy.maximumBatchWindowMillis).contains(batchWindowMs) {
            throw ValidationError("--batch-window-ms must be between 0 and \(QueuePolicy.maximumBatchWindowMillis)")
        }
        _ = try selectedSinkTypes()
    }

    private static let sinkTypes = ["web", "wav", "sqlite", "jsonl", "redis"]

    private func selectedSinkTypes() throws -> [String] {
        switch sinks {
        case "default": return ["web", "wav", "sqlite", "jsonl"]
        case "none": return []
        default:
            let types = sinks.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            for type in types where !Self.sinkTypes.contains(type) {
                throw ValidationError("--sinks: unknown sink type '\(type)' (use \(Self.sinkTypes.joined(separator: ", ")), default or none)")
            }
            return types
        }
    }

    func run() async throws {
        var options = global
        if options.logLevel == nil, ProcessInfo.processInfo.environment["RTMS_RELAY_LOG_LEVEL"] == nil { options.logLevel = "warning" }
        let logger = try options.bootstrapLogging()
        let folder = try prepareFolder()
        defer { if dataDir == nil { try? FileManager.default.removeItem(atPath: folder) } }
        guard FileManager.default.changeCurrentDirectoryPath(folder) else { throw CommandFailure.runtime("cannot enter \(folder)") }

        let credentials = (id: "BENCHCLIENT", secret: "bench-client-secret", webhook: "bench-webhook-secret")
        let configuration = try relayConfiguration(credentials: credentials)
        let relay = try Relay(configuration: configuration, sinkRegistry: BuiltInSinks.registry, logger: logger)
        // A failed measurement stops the relay gracefully and waits for it: cancelling its servers while they
        // hold accepted but unserved connections traps inside NIO (apple/swift-nio#2813), so the group never
        // cancels the relay; the error is carried out as a value instead.
        let outcome = try await withThrowingTaskGroup(of: Result<Measurement, any Error>?.self) { group in
            let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
            let relayGroup = relay.makeServiceGroup(gracefulShutdownSignals: [], onServerRunning: { portContinuation.yield($0) })
            group.addTask {
                try await relayGroup.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CommandFailure.runtime("the relay did not start") }
            group.addTask {
                let result: Result<Measurement, any Error>
                do { result = .success(try await measure(relay: relay, port: port, credentials: credentials, folder: folder)) }
                catch { result = .failure(error) }
                await relayGroup.triggerGracefulShutdown()
                return result
            }
            var result: Result<Measurement, any Error>?
            for try await value in group { if let value { result = value } }
            return result
        }
        guard var measurement = try outcome?.get() else { throw CommandFailure.runtime("the benchmark did not finish") }
        // The relay has drained and finished every sink: count what each consumed.
        measurement.finish(sinks: relay.hub.snapshot(), published: relay.hub.publishedCount)
        if floor { measurement.floor = try await measureFloor(credentials: credentials, folder: folder) }
        let report = Report(calls: calls, seconds: seconds, sinks: try selectedSinkTypes(), measurement: measurement)
        print(json ? report.json() : report.text())
    }

    // MARK: Set-up

    private func prepareFolder() throws -> String {
        if let dataDir {
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
            return URL(fileURLWithPath: dataDir).standardizedFileURL.path
        }
        var template = Array((NSTemporaryDirectory() + "/rtms-relay-bench-XXXXXX").utf8CString)
        guard let path = mkdtemp(&template) else { throw CommandFailure.runtime("cannot create a temporary folder") }
        return String(cString: path)
    }

    private func relayConfiguration(credentials: (id: String, secret: String, webhook: String)) throws -> RelayConfiguration {
        let loader = ConfigLoader(registry: BuiltInSinks.registry)
        var configuration = try loader.loadEmbeddedDefaults()
        configuration.source = "<embedded defaults + bench>"
        configuration.server.host = "127.0.0.1"
        configuration.server.port = 0
        configuration.zoom.clientID = credentials.id
        configuration.zoom.clientSecret = Secret(credentials.secret)
        configuration.zoom.webhookSecret = Secret(credentials.webhook)
        configuration.zoom.rtmsAllowedHosts = ["127.0.0.1"]
        configuration.zoom.caFile = ""
        configuration.zoom.allowInsecureRTMS = true  // the simulator child speaks ws://
        let types = try selectedSinkTypes()
        configuration.sinks = configuration.sinks.filter { types.contains($0.typeName) }
        if types.contains("redis") {
            let yaml = "sinks:\n  bus:\n    type: redis\n    url: \"\(redisURL)\"\n"
            configuration.sinks += try loader.parse(yaml: yaml, file: "<bench redis sink>", environment: [:]).sinks
        }
        if let batchWindowMs {
            for index in configuration.sinks.indices { configuration.sinks[index].queue.batchWindow = .milliseconds(batchWindowMs) }
        }
        return configuration
    }

    // MARK: Measurement

    /// Starts the simulator, waits for every call, measures the window, ends the calls and waits for the sinks.
    private func measure(relay: Relay, port: Int, credentials: (id: String, secret: String, webhook: String), folder: String) async throws -> Measurement {
        let baselineRSS = ProcessStats.currentRSS()
        let simulator = try SimulatorProcess(
            arguments: [
                "simulate", "--relay", "http://127.0.0.1:\(port)", "--calls", "\(calls)", "--skip-validation",
                "--summary-file", folder + "/simulator-summary.json", "--client-id", credentials.id,
                "--client-secret", credentials.secret, "--secret-token", credentials.webhook, "--log-level", "warning",
            ],
            log: folder + "/simulator.log")
        defer { simulator.kill() }

        // Every call connected: one live session per call on the relay, and audio flowing.
        let connectDeadline = ContinuousClock.now + .seconds(30 + calls / 20)
        while relay.ingest.activeStreamCount < calls || relay.ingest.metrics.audioFrames == 0 {
            guard simulator.isRunning else { throw CommandFailure.runtime("the simulator exited early; see \(folder)/simulator.log") }
            guard ContinuousClock.now < connectDeadline else {
                throw CommandFailure.runtime("only \(relay.ingest.activeStreamCount) of \(calls) calls connected in time"
                    + Self.webhookFailures(log: folder + "/simulator.log"))
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .milliseconds(Int(warmup * 1000)))

        // The window.
        relay.hub.restartLatencyMaxima()
        let start = Sample(relay: relay, simulatorPID: simulator.pid)
        var peakWindowRSS = ProcessStats.currentRSS()
        let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        async let controlPlane = ControlPlaneProbe(port: port, webhookSecret: credentials.webhook).run(until: end)
        var peakSpilled: [String: SpilledPeak] = [:]
        func sampleSpill() {
            for sink in relay.hub.snapshot() where sink.spilled != nil {
                var peak = peakSpilled[sink.id] ?? SpilledPeak()
                peak.events = max(peak.events, sink.spilled ?? 0)
                peak.bytes = max(peak.bytes, sink.spilledBytes ?? 0)
                peakSpilled[sink.id] = peak
            }
        }
        while ContinuousClock.now < end {
            try await Task.sleep(for: min(.seconds(1), end - ContinuousClock.now))
            peakWindowRSS = max(peakWindowRSS, ProcessStats.currentRSS())
            sampleSpill()
        }
        let stop = Sample(relay: relay, simulatorPID: simulator.pid)
        let answers = await controlPlane

        // End the calls (the simulator hangs up every one), then let the relay see them stop and drain its queues.
        try await simulator.terminate(within: .seconds(60))
        let drainDeadline = ContinuousClock.now + .seconds(60)
        while relay.ingest.activeStreamCount > 0 || relay.hub.snapshot().contains(where: { $0.depth > 0 || ($0.spilled ?? 0) > 0 }) {
            guard ContinuousClock.now < drainDeadline else { break }
            try await Task.sleep(for: .milliseconds(100))
            sampleSpill()
        }
        let summaryPath = folder + "/simulator-summary.json"
        guard let summary = try? SimulatorSummary(path: summaryPath) else { throw CommandFailure.runtime("the simulator wrote no summary (\(summaryPath))") }
        let received = relay.ingest.metrics.audioFrames
        return Measurement(start: start, stop: stop, baselineRSS: baselineRSS, peakWindowRSS: peakWindowRSS,
                           summary: summary, framesReceived: received, malformed: relay.ingest.metrics.malformedFramesReceived,
                           peakSpilled: peakSpilled, webhookAnswers: answers.webhook, healthAnswers: answers.health)
    }
}

extension Bench {
    /// The same calls, warm-up and window against `FloorClient` in this process, with the relay stopped.
    private func measureFloor(credentials: (id: String, secret: String, webhook: String), folder: String) async throws -> FloorMeasurement {
        let ready = folder + "/floor-ready.json"
        let simulator = try SimulatorProcess(
            arguments: ["simulate", "--calls", "\(calls)", "--skip-validation", "--ready-file", ready,
                        "--summary-file", folder + "/floor-summary.json", "--client-id", credentials.id,
                        "--client-secret", credentials.secret, "--log-level", "warning"],
            log: folder + "/floor-simulator.log")
        defer { simulator.kill() }
        let deadline = ContinuousClock.now + .seconds(30 + calls / 20)
        var streams: [StartedStream] = []
        while streams.isEmpty {
            guard simulator.isRunning, ContinuousClock.now < deadline else { throw CommandFailure.runtime("the floor's simulator did not start; see \(folder)/floor-simulator.log") }
            try await Task.sleep(for: .milliseconds(100))
            guard let data = FileManager.default.contents(atPath: ready),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let list = object["streams"] as? [[String: String]] else { continue }
            streams = list.compactMap { entry in
                guard let engagement = entry["engagement_id"], let stream = entry["rtms_stream_id"], let url = entry["server_urls"] else { return nil }
                return StartedStream(engagementID: engagement, streamID: stream, serverURL: url, signature: "")
            }
        }
        let client = FloorClient(clientID: credentials.id, clientSecret: credentials.secret)
        try await client.join(streams)
        while client.streaming.value < calls {
            guard ContinuousClock.now < deadline else { throw CommandFailure.runtime("the floor joined only \(client.streaming.value) of \(calls) calls in time") }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .milliseconds(Int(warmup * 1000)))
        let start = (time: ContinuousClock.now, cpu: ProcessStats.selfCPUSeconds(), simulator: ProcessStats.cpuSeconds(pid: simulator.pid), frames: client.frames.value)
        try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
        let stop = (time: ContinuousClock.now, cpu: ProcessStats.selfCPUSeconds(), simulator: ProcessStats.cpuSeconds(pid: simulator.pid), frames: client.frames.value)
        try await simulator.terminate(within: .seconds(60))
        await client.shutdown()
        let elapsed = stop.time - start.time
        return FloorMeasurement(windowSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                                frames: stop.frames - start.frames, cpuSeconds: stop.cpu - start.cpu,
                                simulatorCPUSeconds: stop.simulator.flatMap { end in start.simulator.map { end - $0 } })
    }
}

/// What the floor client used for the same calls (`bench --floor`).
private struct FloorMeasurement {
    var windowSeconds: Double
    var frames: Int
    var cpuSeconds: Double
    var simulatorCPUSeconds: Double?

    var cpuPerMillion: Double { cpuSeconds / Double(max(1, frames)) * 1e6 }
    var framesPerSecond: Double { Double(frames) / windowSeconds }
}

/// The counters the window is measured between.
private struct Sample {
    var time: ContinuousClock.Instant
    var relayCPU: Double
    var simulatorCPU: Double?
    var audioFrames: Int
    var latency: [String: LatencyHistogram.Snapshot]

    init(relay: Relay, simulatorPID: Int32) {
        time = .now
        relayCPU = ProcessStats.selfCPUSeconds()
        simulatorCPU = ProcessStats.cpuSeconds(pid: simulatorPID)
        audioFrames = relay.ingest.metrics.audioFrames
        latency = Dictionary(uniqueKeysWithValues: relay.hub.snapshot().map { ($0.id, $0.audioLatency) })
    }
}

/// The most a sink's spill log held during a run (sampled every second).
private struct SpilledPeak {
    var events = 0
    var bytes: Int64 = 0
}

/// What one run measured.
private struct Measurement {
    var start: Sample
    var stop: Sample
    var baselineRSS: Int
    var peakWindowRSS: Int
    var summary: SimulatorSummary
    var framesReceived: Int
    var malformed: Int
    var peakSpilled: [String: SpilledPeak]
    /// Answer times of webhooks and `/health` during the window (`ControlPlaneProbe`).
    var webhookAnswers: ControlPlaneProbe.Timings
    var healthAnswers: ControlPlaneProbe.Timings
    var sinks: [SinkSnapshot] = []
    var published: UInt64 = 0
    var floor: FloorMeasurement?

    mutating func finish(sinks: [SinkSnapshot], published: UInt64) {
        self.sinks = sinks
        self.published = published
    }

    var windowSeconds: Double {
        let elapsed = stop.time - start.time
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
    var windowFrames: Int { stop.audioFrames - start.audioFrames }
    var framesPerSecond: Double { Double(windowFrames) / windowSeconds }
    var relayCPUSeconds: Double { stop.relayCPU - start.relayCPU }
    var simulatorCPUSeconds: Double? { stop.simulatorCPU.flatMap { end in start.simulatorCPU.map { end - $0 } } }
    /// Each sink's latency during the window.
    func windowLatency(_ id: String) -> LatencyHistogram.Snapshot {
        guard let end = stop.latency[id] else { return .empty }
        return end.since(start.latency[id] ?? .empty)
    }
    /// Events a sink did not consume: dropped by its queue policy, failed, or still queued (in memory or spilled).
    /// (Not `published - delivered`: a sink is handed only the kinds it wants, `Sink.interests`.)
    func lostEvents(_ sink: SinkSnapshot) -> UInt64 { sink.dropped + sink.failed + UInt64(max(0, sink.depth)) + UInt64(max(0, sink.spilled ?? 0)) }
    /// Frames the simulator sent that the relay never published, plus the most any sink lost.
    var framesLost: Int {
        max(0, summary.audioFramesSent - framesReceived) + Int(sinks.map(lostEvents).max() ?? 0)
    }
}

extension Bench {
    /// Why calls may not have connected: the simulator logs every webhook the relay did not answer in time
    /// (it waits 3 s, as Zoom does), and a call whose `voice_rtms_started` failed never connects.
    static func webhookFailures(log path: String) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        let failures = text.split(separator: "\n").filter { $0.contains("] webhook ") && $0.contains(" failed: ") }
        guard let first = failures.first, let range = first.range(of: "] webhook ") else { return "" }
        return "; \(failures.count) webhook deliveries to the relay failed, the first: \(first[range.upperBound...])"
    }
}

/// The simulator as a child process: this same executable, `simulate`.
private final class SimulatorProcess: Sendable {
    private let process: Process

    init(arguments: [String], log: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: log)
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch { throw CommandFailure.runtime("cannot start the simulator: \(error)") }
        self.process = process
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// SIGTERM (the simulator hangs up every call and writes its summary), and waits for it to exit.
    func terminate(within limit: Duration) async throws {
        process.terminate()
        let deadline = ContinuousClock.now + limit
        while process.isRunning {
            guard ContinuousClock.now < deadline else { throw CommandFailure.runtime("the simulator did not exit within \(limit) of SIGTERM") }
            try await Task.sleep(for: .milliseconds(50))
        }
        guard process.terminationStatus == 0 else { throw CommandFailure.runtime("the simulator exited with status \(process.terminationStatus)") }
    }

    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }
}

/// CPU and memory of processes, from the kernel's own accounting.
enum ProcessStats {
    /// User + system CPU seconds of this process (every thread).
    static func selfCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// The largest resident set this process has had, in bytes.
    static func peakRSS() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }

    /// This process's resident set now, in bytes.
    static func currentRSS() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * sysconf(Int32(_SC_PAGESIZE))
    }

    /// User + system CPU seconds of another process, from /proc/PID/stat (nil once it is gone).
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// The result, as text for people and JSON for scripts.
private struct Report {
    var calls: Int
    var seconds: Double
    var sinks: [String]
    var measurement: Measurement

    private var expectedFramesPerSecond: Double { Double(calls) * 100 }

    #if DEBUG
    private let build = "debug"
    #else
    private let build = "release"
    #endif

    private var latency: LatencyHistogram.Snapshot {
        measurement.sinks.map { measurement.windowLatency($0.id) }.reduce(.empty) { $0.adding($1) }
    }
    /// The slowest sink's p99 decides.
    private var worstP99: Int64? { measurement.sinks.compactMap { measurement.windowLatency($0.id).quantileUpperBoundMillis(0.99) }.max() }
    private var cpuPerMillion: Double { measurement.relayCPUSeconds / Double(max(1, measurement.windowFrames)) * 1e6 }
    private var peakRSS: Int { ProcessStats.peakRSS() }

    private var misses: [String] {
        var misses: [String] = []
        if measurement.framesPerSecond < expectedFramesPerSecond * 0.99 {
            misses.append("frames/s \(Int(measurement.framesPerSecond)) < \(Int(expectedFramesPerSecond))")
        }
        if let p99 = worstP99, p99 >= 50 { misses.append("p99 latency \(p99) ms >= 50 ms") }
        if measurement.framesLost > 0 { misses.append("\(measurement.framesLost) frames lost") }
        if peakRSS >= 1 << 30 { misses.append("peak RSS \(peakRSS >> 20) MiB >= 1024 MiB") }
        if let p99 = measurement.webhookAnswers.quantile(0.99), p99 >= 100 { misses.append("webhook answer p99 \(Int(p99)) ms >= 100 ms") }
        if measurement.webhookAnswers.failures > 0 { misses.append("\(measurement.webhookAnswers.failures) webhooks unanswered within 3 s") }
        return misses
    }

    func text() -> String {
        let m = measurement
        let simulatorShare = m.simulatorCPUSeconds.map { String(format: "; simulator %.0f%%", $0 / m.windowSeconds * 100) } ?? ""
        var lines = [
            "rtms-relay bench: \(calls) calls, \(format(seconds)) s window, sinks: \(sinks.isEmpty ? "none" : sinks.joined(separator: ", ")) (\(build) build)",
            "  frames/s      \(Int(m.framesPerSecond.rounded()))  (offered \(Int(expectedFramesPerSecond)))",
            String(format: "  relay CPU     %.2f s per million frames  (%.0f%% of one core%@)", cpuPerMillion,
                   m.relayCPUSeconds / m.windowSeconds * 100, simulatorShare),
            "  latency       p50 \(ms(latency.quantileUpperBoundMillis(0.5))) · p99 \(ms(worstP99)) · max \(ms(latency.count > 0 ? latency.maxMillis : nil))  (Zoom timestamp → sink done, slowest sink)",
        ]
        for sink in m.sinks {
            let window = m.windowLatency(sink.id)
            lines.append("    \(sink.id) (\(sink.type)): p50 \(ms(window.quantileUpperBoundMillis(0.5))) · p99 \(ms(window.quantileUpperBoundMillis(0.99))) · max \(ms(window.count > 0 ? window.maxMillis : nil)); consumed \(sink.delivered) events (\(m.published) published), dropped \(sink.dropped), failed \(sink.failed)"
                + spillText(sink))
        }
        if let floor = m.floor {
            lines.append(String(format: "  floor         %.2f s per million frames, %d frames/s (%.0f%% of one core; simulator %.0f%%); relay ÷ floor %.2f×",
                                floor.cpuPerMillion, Int(floor.framesPerSecond.rounded()), floor.cpuSeconds / floor.windowSeconds * 100,
                                (floor.simulatorCPUSeconds ?? 0) / floor.windowSeconds * 100, cpuPerMillion / floor.cpuPerMillion))
        }
        lines.append("  webhook       " + answers(m.webhookAnswers) + "  (signed endpoint.url_validation, every 100 ms)")
        lines.append("  /health       " + answers(m.healthAnswers))
        lines.append("  peak RSS      \(peakRSS >> 20) MiB  (\(String(format: "%.2f", Double(m.peakWindowRSS - m.baselineRSS) / Double(calls) / 1_048_576)) MiB per call)")
        lines.append("  frames lost   \(m.framesLost) of \(m.summary.audioFramesSent) sent (relay received \(m.framesReceived); malformed \(m.malformed))")
        lines.append("  targets       " + (misses.isEmpty ? "met" : "missed: " + misses.joined(separator: "; ")))
        return lines.joined(separator: "\n")
    }

    /// "; spilled at most N events (B bytes), left K" for a spilling sink that spilled.
    private func spillText(_ sink: SinkSnapshot) -> String {
        guard let peak = measurement.peakSpilled[sink.id], peak.events > 0 else { return "" }
        return "; spilled at most \(peak.events) events (\(peak.bytes) bytes), \(sink.spilled ?? 0) left on disk"
    }

    func json() -> String {
        let m = measurement
        var sinkObjects: [[String: Any]] = []
        for sink in m.sinks {
            let window = m.windowLatency(sink.id)
            sinkObjects.append([
                "id": sink.id, "type": sink.type, "consumed": sink.delivered, "dropped": sink.dropped, "failed": sink.failed,
                "spilled_peak_events": m.peakSpilled[sink.id]?.events ?? 0, "spilled_peak_bytes": m.peakSpilled[sink.id]?.bytes ?? 0,
                "spilled_left": sink.spilled ?? 0,
                "latency_ms": ["p50": window.quantileUpperBoundMillis(0.5) as Any, "p99": window.quantileUpperBoundMillis(0.99) as Any,
                               "max": window.count > 0 ? window.maxMillis as Any : NSNull()],
            ])
        }
        let object: [String: Any] = [
            "calls": calls, "window_seconds": m.windowSeconds, "sinks": sinkObjects, "build": build,
            "frames_per_second": m.framesPerSecond, "offered_frames_per_second": expectedFramesPerSecond,
            "relay_cpu_seconds": m.relayCPUSeconds, "relay_cpu_seconds_per_million_frames": cpuPerMillion,
            "simulator_cpu_seconds": m.simulatorCPUSeconds as Any,
            "latency_ms": ["p50": latency.quantileUpperBoundMillis(0.5) as Any, "p99": worstP99 as Any,
                           "max": latency.count > 0 ? latency.maxMillis as Any : NSNull()],
            "peak_rss_bytes": peakRSS, "rss_per_call_bytes": (m.peakWindowRSS - m.baselineRSS) / calls,
            "frames_sent": m.summary.audioFramesSent, "frames_received": m.framesReceived, "frames_lost": m.framesLost,
            "events_published": m.published, "malformed_frames": m.malformed,
            "floor": m.floor.map { floor -> Any in
                ["cpu_seconds_per_million_frames": floor.cpuPerMillion, "frames_per_second": floor.framesPerSecond,
                 "cpu_seconds": floor.cpuSeconds, "simulator_cpu_seconds": floor.simulatorCPUSeconds as Any,
                 "relay_over_floor": cpuPerMillion / floor.cpuPerMillion]
            } ?? NSNull(),
            "webhook_answers": answersJSON(m.webhookAnswers), "health_answers": answersJSON(m.healthAnswers),
            "targets_met": misses.isEmpty, "target_misses": misses,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    private func answers(_ timings: ControlPlaneProbe.Timings) -> String {
        func value(_ millis: Double?) -> String { millis.map { String(format: "%.1f ms", $0) } ?? "-" }
        return "p50 \(value(timings.quantile(0.5))) · p99 \(value(timings.quantile(0.99))) · max \(value(timings.max)); \(timings.millis.count) answered, \(timings.failures) failed or over 3 s"
    }

    private func answersJSON(_ timings: ControlPlaneProbe.Timings) -> [String: Any] {
        ["p50_ms": timings.quantile(0.5) as Any, "p99_ms": timings.quantile(0.99) as Any, "max_ms": timings.max as Any,
         "answered": timings.millis.count, "failed": timings.failures]
    }

    private func ms(_ value: Int64?) -> String { value.map { "\($0) ms" } ?? "-" }
    private func format(_ value: Double) -> String { value == value.rounded() ? "\(Int(value))" : "\(value)" }
}
