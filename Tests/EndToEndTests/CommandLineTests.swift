import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GRDB
import RelayTesting
import SQLiteSink
import Testing
import ZoomSimulator

/// The real executable, as users run it.
@Suite("rtms-relay command line", .serialized)
struct CommandLineTests {
    /// Fetches `url` with a short timeout; nil when nothing answers.
    func get(_ url: String) async -> (Int, String)? {
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = 2
        guard let (data, response) = try? await URLSession.shared.data(for: request), let http = response as? HTTPURLResponse else { return nil }
        return (http.statusCode, String(decoding: data, as: UTF8.self))
    }

    @Test("serve with no config starts on 127.0.0.1:3001 with the embedded defaults, /health says not_ready for want of Zoom secrets, and SIGTERM exits 0 within 2 s")
    func serveDefaults() async throws {
        let relay = try RelayProcess(["serve"])
        var health: (Int, String)?
        try await waitUntil(timeout: .seconds(20), "the relay to answer /health") {
            health = await get("http://127.0.0.1:3001/health")
            return health != nil
        }
        // The embedded defaults have no Zoom secrets: the relay runs, and says it cannot receive calls yet.
        #expect(health?.0 == 503)
        #expect(health?.1.contains(#""status":"not_ready""#) == true, "\(health?.1 ?? "")")
        #expect(health?.1.contains("missing zoom.client_id, zoom.client_secret, zoom.webhook_secret") == true)
        #expect(health?.1.contains(#""events_log""#) == true)
        #expect(relay.stderr.contains("<embedded defaults>"))
        relay.signal(SIGTERM)
        let start = ContinuousClock.now
        let status = try await relay.waitForExit(timeout: .seconds(5))
        #expect(status == 0)
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(relay.stderr.contains("stopped"))
    }

    @Test("a bad config is one line per mistake naming file, line and key, with exit 1")
    func badConfig() async throws {
        let directory = try RelayProcess.makeTemporaryDirectory()
        try "server:\n  host: 127.0.0.1\nsinks:\n  log:\n    type: jsonl\n    pth: x.jsonl\n".write(to: directory.appendingPathComponent("bad.yaml"), atomically: true, encoding: .utf8)
        let (status, _, stderr) = try await RelayProcess.run(["check-config", "bad.yaml"], directory: directory)
        #expect(status == 1)
        #expect(stderr == "error: bad.yaml:4: missing key 'path' in sinks.log\n")
        let (serveStatus, _, serveError) = try await RelayProcess.run(["serve", "--config", "bad.yaml"], directory: directory)
        #expect(serveStatus == 1)
        #expect(serveError.hasSuffix("error: bad.yaml:4: missing key 'path' in sinks.log\n"))
        // Several mistakes: all of them in one run, one `error:` line each.
        try "server:\n  port: x\nsinks:\n  log:\n    type: jsonl\n    pth: x.jsonl\n".write(to: directory.appendingPathComponent("worse.yaml"), atomically: true, encoding: .utf8)
        let (worseStatus, _, worse) = try await RelayProcess.run(["check-config", "worse.yaml"], directory: directory)
        #expect(worseStatus == 1)
        #expect(worse == "error: worse.yaml:2: server.port: expected an integer, found 'x'\nerror: worse.yaml:4: missing key 'path' in sinks.log\n")
    }

    @Test("an unusable cluster.redis_url fails check-config and serve with one line naming the key and its line")
    func badClusterURL() async throws {
        let directory = try RelayProcess.makeTemporaryDirectory()
        try "cluster:\n  redis_url: https://:pw@redis.internal:6379\n  secret: command-line-test-secret\n".write(to: directory.appendingPathComponent("bad.yaml"), atomically: true, encoding: .utf8)
        let expected = "error: bad.yaml:2: cluster.redis_url: invalid Redis URL: scheme 'https' is not supported (use redis://; TLS is not available in this build)\n"
        let (status, _, stderr) = try await RelayProcess.run(["check-config", "bad.yaml"], directory: directory)
        #expect(status == 1)
        #expect(stderr == expected)
        let (serveStatus, _, serveError) = try await RelayProcess.run(["serve", "--config", "bad.yaml"], directory: directory)
        #expect(serveStatus == 1)
        #expect(serveError.hasSuffix(expected))
    }

    @Test("check-config prints what would run with secrets redacted, and the sink types")
    func checkConfigRedacts() async throws {
        let directory = try RelayProcess.makeTemporaryDirectory()
        try "zoom:\n  client_id: cid\n  client_secret: ${SECRET}\n  webhook_secret: wh-very-secret\nsinks:\n  log:\n    type: jsonl\n    path: '-'\n".write(to: directory.appendingPathComponent("ok.yaml"), atomically: true, encoding: .utf8)
        let (status, stdout, _) = try await RelayProcess.run(["check-config", "ok.yaml"], directory: directory, environment: ["SECRET": "topsecret-123"])
        #expect(status == 0)
        #expect(stdout.hasPrefix("ok.yaml: OK"))
        #expect(stdout.contains("client_secret [redacted]"))
        #expect(!stdout.contains("topsecret-123"))
        #expect(!stdout.contains("wh-very-secret"))
        #expect(stdout.contains("jsonl: every non-audio event"))
    }

    @Test("check-config's summary names every setting by its YAML key, sink options included")
    func checkConfigYAMLKeys() async throws {
        let (status, stdout, _) = try await RelayProcess.run(["check-config"])
        #expect(status == 0)
        for key in ["max_body_bytes 262144", "idle_timeout_seconds 60", "public_url http://localhost:3001", "webhook_tolerance_seconds 300", "transcripts true",
                    "session_minutes 60", "status_every_chunks: 50", "level_interval_ms: 250", "max_channels: 8", "store_audio: false", "max_files: 5"] {
            #expect(stdout.contains(key), "\(key) missing from: \(stdout)")
        }
        // No Swift property names.
        for name in ["maxChannels", "storeAudio", "levelIntervalMilliseconds", "statusEveryChunks"] { #expect(!stdout.contains(name)) }
    }

    @Test("check-config warns about no sinks, missing Zoom secrets and a public_url on the wrong port; serve logs the same; a clean config has none")
    func configWarnings() async throws {
        let directory = try RelayProcess.makeTemporaryDirectory()
        let port = try freeLoopbackPort()
        try "server: {host: 127.0.0.1, port: \(port)}\nsinks: {}\n".write(to: directory.appendingPathComponent("bare.yaml"), atomically: true, encoding: .utf8)
        let (status, stdout, _) = try await RelayProcess.run(["check-config", "--log-level", "warning", "bare.yaml"], directory: directory)
        #expect(status == 0, "\(stdout)")
        let warnings = stdout.split(separator: "\n").filter { $0.hasPrefix("warning: ") }
        #expect(warnings.count == 4, "\(stdout)")
        #expect(warnings.contains { $0.hasPrefix("warning: no sinks: every event is received and dropped") })
        #expect(warnings.contains { $0.hasPrefix("warning: zoom.client_id / zoom.client_secret not set") })
        #expect(warnings.contains { $0.hasPrefix("warning: zoom.webhook_secret not set") })
        #expect(warnings.contains { $0.hasPrefix("warning: server.public_url http://localhost:3001 names port 3001, but the relay listens on \(port)") })

        let relay = try RelayProcess(["serve", "--config", "bare.yaml"], directory: directory)
        defer { relay.signal(SIGKILL) }
        try await waitUntil(timeout: .seconds(30), "the relay to listen (log: \(relay.stderr.suffix(600)))") { relay.stderr.contains("listening on") }
        #expect(relay.stderr.contains("warning rtms-relay: [RelayServer] no sinks: every event is received and dropped"), "\(relay.stderr)")
        #expect(relay.stderr.contains("names port 3001, but the relay listens on \(port)"))

        try "server: {host: 127.0.0.1, port: 3001, public_url: 'http://localhost:3001'}\nzoom: {client_id: c, client_secret: s, webhook_secret: w}\nsinks: {page: {type: web}}\n"
            .write(to: directory.appendingPathComponent("clean.yaml"), atomically: true, encoding: .utf8)
        let (cleanStatus, clean, _) = try await RelayProcess.run(["check-config", "clean.yaml"], directory: directory)
        #expect(cleanStatus == 0)
        #expect(!clean.contains("warning:"), "\(clean)")
    }

    @Test("demo runs relay and simulator for --seconds, prints the page URL, records WAVs and the archive (with each party's transcript), logs each stream's life at info, and exits 0")
    func demo() async throws {
        let port = Int.random(in: 20_000...60_000)
        let directory = try RelayProcess.makeTemporaryDirectory()
        // Long enough for the first turn of each party (about 7.5 s of the scripted call), and a margin.
        let seconds = Double(SimulatedConversation.turn(1).frames.upperBound) * 0.02 + 2
        let (status, stdout, stderr) = try await RelayProcess.run(
            ["demo", "--port", "\(port)", "--seconds", "\(seconds)"], directory: directory, timeout: .seconds(60))
        #expect(status == 0, "stderr: \(stderr.suffix(2000))")
        #expect(stdout.contains("open http://127.0.0.1:\(port)/"))
        #expect(stderr.contains("demo stopped"))
        // A call's story at info; successful reads (the page, its polling of auth status) only at debug.
        let lines = stderr.split(separator: "\n")
        #expect(lines.contains { $0.contains(" info ") && $0.contains("[RTMSIngest] stream connected") && $0.contains("engagement_id=") })
        #expect(lines.contains { $0.contains(" info ") && $0.contains("[RTMSIngest] stream stopped") && $0.contains("reason=") })
        #expect(!lines.contains { $0.contains("GET /api/auth/status 200") }, "a successful GET logged at info")
        #expect(lines.contains { $0.contains(" info ") && $0.contains("POST /api/auth/login 200") }, "changes are logged")
        let data = directory.appendingPathComponent("data")
        let wavs = FileManager.default.enumerator(atPath: data.appendingPathComponent("recordings").path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".wav") } ?? []
        #expect(wavs.count >= 2, "WAVs: \(wavs)")
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("archive.sqlite").path))
        // The relay asked for transcripts by default: the archive holds the script's first turns, one row per
        // turn from the party speaking, in order, each as long as its turn.
        let archive = try DatabaseQueue(path: data.appendingPathComponent("archive.sqlite").path)
        let rows = try await archive.read { db in
            try Row.fetchAll(db, sql: "SELECT channel, speaker, text, start_ms, end_ms, language FROM transcripts ORDER BY id")
        }
        #expect(rows.count >= 2, "transcripts: \(rows)")
        for (number, row) in rows.enumerated() {
            let turn = SimulatedConversation.turn(number)
            #expect(row["channel"] == SimulatedAudio.channelID(turn.party) && row["speaker"] == SimulatedAudio.participantNames[turn.party])
            #expect(row["text"] == turn.text)
            #expect((row["end_ms"] as Int64) - (row["start_ms"] as Int64) == Int64(20 * turn.frames.count))
            #expect(row["language"] == "9")
        }
        #expect(Set(rows.map { $0["channel"] as String }) == Set(SimulatedAudio.channelIDs))
    }

    @Test("replay after a demo: refuses WAVs from an archive without audio, says what each sink got, and never appends a JSON Lines file twice")
    func replayAfterDemo() async throws {
        let port = Int.random(in: 20_000...60_000)
        let directory = try RelayProcess.makeTemporaryDirectory()
        let (demoStatus, _, demoError) = try await RelayProcess.run(["demo", "--port", "\(port)", "--seconds", "3"], directory: directory, timeout: .seconds(60))
        #expect(demoStatus == 0, "\(demoError.suffix(2000))")
        let lines = directory.appendingPathComponent("data/events.jsonl").path
        let before = try String(contentsOfFile: lines, encoding: .utf8)

        // The embedded defaults have a WAV sink and the demo's archive has no audio: refused, nothing written.
        let (refused, _, refusal) = try await RelayProcess.run(["replay", "--archive", "data/archive.sqlite"], directory: directory)
        #expect(refused == 1)
        #expect(refusal.contains("holds no audio") && refusal.contains("sink 'qa_recordings'") && refusal.contains("store_audio: true"), "\(refusal)")
        #expect(try String(contentsOfFile: lines, encoding: .utf8) == before)

        let (status, stdout, stderr) = try await RelayProcess.run(["replay", "--archive", "data/archive.sqlite", "--sink", "events_log"], directory: directory)
        #expect(status == 0, "\(stderr)")
        let held = before.split(separator: "\n").count
        #expect(stdout.contains("events_log: 0 events; \(held) it already held were not written again"), "\(stdout)")
        #expect(try String(contentsOfFile: lines, encoding: .utf8) == before, "the demo's lines were appended again")

        let (again, againOut, _) = try await RelayProcess.run(["replay", "--archive", "data/archive.sqlite", "--sink", "events_log", "--duplicates"], directory: directory)
        #expect(again == 0)
        #expect(againOut.contains("events_log: \(held) events"), "\(againOut)")
        #expect(try String(contentsOfFile: lines, encoding: .utf8).split(separator: "\n").count == 2 * held)
    }

    @Test("demo on SIGTERM ends its calls first: exit 0, no cancelled webhooks, every stream stopped and the engagement ended in the archive")
    func demoSIGTERM() async throws {
        let port = try freeLoopbackPort()
        let directory = try RelayProcess.makeTemporaryDirectory()
        let demo = try RelayProcess(["demo", "--port", "\(port)", "--engagements", "2"], directory: directory)
        defer { if demo.process.isRunning { demo.signal(SIGKILL) } }
        try await waitUntil(timeout: .seconds(60), "the calls to go live (log: \(demo.stderr.suffix(800)))") {
            demo.stdout.contains("simulated call(s) live") && demo.stderr.components(separatedBy: "[WAVSink] recording\n").count > 2
        }
        demo.signal(SIGTERM)
        let status = try await demo.waitForExit(timeout: .seconds(30))
        #expect(status == 0, "\(demo.stderr.suffix(2000))")
        #expect(demo.stderr.contains("ending the simulated calls"))
        #expect(!demo.stderr.contains("CancellationError"), "\(demo.stderr.suffix(2000))")
        var stopped = 0, ended = 0
        for try await batch in try ArchiveReader(path: directory.appendingPathComponent("data/archive.sqlite").path).events() {
            for event in batch {
                if case .streamStopped = event.kind { stopped += 1 }
                if case .engagementEnded = event.kind { ended += 1 }
            }
        }
        #expect(stopped == 2 && ended == 2, "stopped \(stopped), ended \(ended)")
    }

    @Test("bench runs calls through the relay and accounts for every frame")
    func bench() async throws {
        let directory = try RelayProcess.makeTemporaryDirectory()
        // Small and short: this checks the accounting and the report, not the speed (that is BENCHMARKS.md's job).
        let (status, stdout, stderr) = try await RelayProcess.run(
            ["bench", "--calls", "3", "--seconds", "2", "--warmup", "1", "--sinks", "wav,jsonl", "--data-dir", directory.path, "--json"],
            timeout: .seconds(120))
        #expect(status == 0, "stderr: \(stderr.suffix(2000))")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any], "stdout: \(stdout)")
        let sent = try #require(object["frames_sent"] as? Int)
        // Three calls of two parties at 50 frames/s each for at least the 3 s of warm-up and window.
        #expect(sent >= 3 * 100 * 3, "\(object)")
        #expect(object["frames_received"] as? Int == sent)
        #expect(object["frames_lost"] as? Int == 0)
        #expect((object["frames_per_second"] as? Double ?? 0) > 0)
        let sinks = try #require(object["sinks"] as? [[String: Any]])
        #expect(sinks.compactMap { $0["type"] as? String }.sorted() == ["jsonl", "wav"])
        // Each sink gets the kinds it asked for, all of them: the WAV sink every event, the JSON Lines sink
        // (no `audio`) every event but the audio frames.
        let published = try #require(object["events_published"] as? Int)
        let received = try #require(object["frames_received"] as? Int)
        for sink in sinks {
            #expect(sink["dropped"] as? Int == 0 && sink["failed"] as? Int == 0, "\(sink)")
            let expected = sink["type"] as? String == "jsonl" ? published - received : published
            #expect(sink["consumed"] as? Int == expected, "\(sink), published \(published), audio frames \(received)")
        }
        // The recordings really were written: one WAV per party per call, plus the mixes.
        let wavs = FileManager.default.enumerator(atPath: directory.appendingPathComponent("data/recordings").path)?
            .compactMap { $0 as? String }.filter { $0.hasSuffix(".wav") } ?? []
        #expect(wavs.count == 9, "WAVs: \(wavs)")
    }

    @Test("bench refuses an unknown sink type with exit 1")
    func benchBadSinks() async throws {
        let (status, _, stderr) = try await RelayProcess.run(["bench", "--sinks", "wav,kafka"])
        #expect(status == 1)
        #expect(stderr.contains("--sinks: unknown sink type 'kafka'"), "\(stderr)")
    }

    @Test("an unknown option is a usage error with exit 1")
    func usageError() async throws {
        let (status, _, stderr) = try await RelayProcess.run(["serve", "--bogus"])
        #expect(status == 1)
        #expect(stderr.hasPrefix("Error: Unknown option '--bogus'"))
    }

    @Test("--log-format json writes one JSON object per log line")
    func jsonLogs() async throws {
        let directory = try RelayProcess.makeTemporaryDirectory()
        try "server:\n  port: 0\nsinks: {}\n".write(to: directory.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        let relay = try RelayProcess(["serve", "--log-format", "json"], directory: directory)
        try await waitUntil(timeout: .seconds(20), "the listening line") { relay.stderr.contains("listening on") }
        relay.signal(SIGTERM)
        #expect(try await relay.waitForExit() == 0)
        let lines = relay.stderr.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["message"] is String, "not a JSON log line: \(line)")
            #expect(object?["level"] is String)
        }
    }

    @Test("config.yaml.example is a valid config documenting every sink type")
    func exampleConfig() async throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config.yaml.example").path
        let (status, stdout, stderr) = try await RelayProcess.run(["check-config", example], environment: [
            "ZOOM_APP_CLIENT_ID": "id", "ZOOM_APP_CLIENT_SECRET": "secret", "ZOOM_SECRET_TOKEN": "token",
        ])
        #expect(status == 0, "\(stderr)")
        for type in ["web", "wav", "sqlite", "jsonl"] { #expect(stdout.contains("type \(type)")) }
    }

    @Test("repair-recordings fixes a header lagging its data, prints one line per file and a summary, and exits 1 for a missing directory")
    func repairRecordings() async throws {
        let directory = try RelayProcess.makeTemporaryDirectory()
        let folder = directory.appendingPathComponent("recordings/e1/s1")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // A 16 kHz mono header declaring no data, followed by 1,000 samples and half of one more.
        func le(_ value: Int, _ count: Int) -> [UInt8] { (0..<count).map { UInt8((value >> (8 * $0)) & 0xFF) } }
        let header = Array("RIFF".utf8) + le(36, 4) + Array("WAVEfmt ".utf8) + le(16, 4) + le(1, 2) + le(1, 2) + le(16_000, 4)
            + le(32_000, 4) + le(2, 2) + le(16, 2) + Array("data".utf8) + le(0, 4)
        let samples = (0..<2_001).map { UInt8($0 % 251) }
        try Data(header + samples).write(to: folder.appendingPathComponent("agent.wav"))
        try Data("not audio".utf8).write(to: folder.appendingPathComponent("notes.wav"))

        let (status, stdout, stderr) = try await RelayProcess.run(["repair-recordings", "recordings"], directory: directory)
        #expect(status == 0)
        #expect(stdout == "repaired recordings/e1/s1/agent.wav: data 0 -> 2000 bytes (file 2045 -> 2044 bytes)\n"
            + "repaired 1 of 2 WAV files, closed 0 manifests, left alone 1 file in recordings\n")
        #expect(stderr.contains("warning: left alone recordings/e1/s1/notes.wav: not a RIFF/WAVE file"), "\(stderr)")
        let repaired = [UInt8](try Data(contentsOf: folder.appendingPathComponent("agent.wav")))
        #expect(repaired == Array(header[0..<4]) + le(2_036, 4) + Array(header[8..<40]) + le(2_000, 4) + Array(samples.prefix(2_000)))

        let (missing, _, missingError) = try await RelayProcess.run(["repair-recordings", "nowhere"], directory: directory)
        #expect(missing == 1)
        #expect(missingError == "error: nowhere is not a directory\n")
    }

    @Test("an unknown log level is refused with exit 1")
    func badLogLevel() async throws {
        let (status, _, stderr) = try await RelayProcess.run(["serve", "--log-level", "loud"])
        #expect(status == 1)
        #expect(stderr.hasPrefix("error: unknown log level 'loud'"))
    }
}
