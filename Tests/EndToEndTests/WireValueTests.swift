import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import RelayCore
import RelayTesting
import Testing
import ZoomSimulator

/// The real `rtms-relay serve` binary with the WAV, SQLite and web sinks, against the Zoom simulator acting as a
/// hostile media server: numbers and channel ids no correct Zoom sends must neither crash the relay nor make it
/// open a file per invented party.
@Suite("Wire values: hostile numbers and channel ids from a media server", .serialized, .timeLimit(.minutes(3)))
struct WireValueTests {
    /// The relay process, the simulator running in this process, and where the relay writes.
    struct Setup {
        var relay: RelayProcess
        var simulator: ZoomSimulator
        var directory: URL
        var port: Int
        var calls: [(engagement: String, stream: String)]
    }

    /// Runs `rtms-relay serve` and the simulator, starts `calls` calls, waits until each party's WAV file holds
    /// audio, runs `body`, and stops everything.
    func withRelay(calls count: Int, _ body: (Setup) async throws -> Void) async throws {
        let directory = try RelayProcess.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try freeLoopbackPort()
        let simulatorHTTP = try freeLoopbackPort()
        try """
            server: {host: 127.0.0.1, port: \(port)}
            zoom:
              client_id: SIMCLIENTID
              client_secret: SIMCLIENTSECRET
              webhook_secret: SIMWEBHOOKSECRET
              oauth_url: http://127.0.0.1:\(simulatorHTTP)
              api_url: http://127.0.0.1:\(simulatorHTTP)/v2
              rtms_allowed_hosts: ["127.0.0.1"]
              allow_insecure_rtms: true
            token_store: {path: data/relay.sqlite}
            sinks:
              recordings: {type: wav, directory: data/recordings, mix: stereo}
              archive: {type: sqlite, path: data/archive.sqlite}
              page: {type: web}
            """.write(to: directory.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        let relay = try RelayProcess(["serve", "--config", "config.yaml"], directory: directory)
        defer { if relay.process.isRunning { relay.signal(SIGKILL) } }
        try await waitUntil(timeout: .seconds(30), "the relay to listen (log: \(relay.stderr.suffix(400)))") { relay.stderr.contains("listening on") }

        var configuration = SimulatorConfiguration()
        configuration.webhookURL = "http://127.0.0.1:\(port)/api/webhooks/zoom"
        configuration.httpPort = simulatorHTTP
        configuration.keepAliveInterval = .seconds(1)
        let simulator = try ZoomSimulator(configuration: configuration, logger: Logger(label: "simulator") { _ in SwiftLogNoOpLogHandler() })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await simulator.run() }
            defer { group.cancelAll() }
            _ = try await simulator.endpoints()
            var calls: [(engagement: String, stream: String)] = []
            for _ in 0..<count {
                let engagement = await simulator.createEngagement()
                calls.append((engagement, try await simulator.startStream(engagementID: engagement).streamID))
            }
            let setup = Setup(relay: relay, simulator: simulator, directory: directory, port: port, calls: calls)
            try await waitUntil(timeout: .seconds(60), "audio in every party's file (relay log: \(relay.stderr.suffix(600)))") {
                calls.allSatisfy { call in SimulatedAudio.channelIDs.allSatisfy { (dataBytes(setup, call.stream, $0) ?? 0) > 0 } }
            }
            try await body(setup)
            await simulator.stopAllStreams()
            relay.signal(SIGTERM)
            #expect(try await relay.waitForExit(timeout: .seconds(15)) == 0, "relay log: \(relay.stderr.suffix(2000))")
        }
    }

    /// One party's folder of WAV files.
    func streamFolder(_ setup: Setup, _ stream: String) throws -> URL {
        let root = setup.directory.appendingPathComponent("data/recordings")
        for engagement in try FileManager.default.contentsOfDirectory(atPath: root.path) {
            let folder = root.appendingPathComponent(engagement).appendingPathComponent(stream)
            if FileManager.default.fileExists(atPath: folder.path) { return folder }
        }
        throw WireTestError("no recording folder for \(stream)")
    }

    /// The data size a party's WAV header declares, nil before the file exists.
    func dataBytes(_ setup: Setup, _ stream: String, _ channel: String) -> Int? {
        guard let folder = try? streamFolder(setup, stream) else { return nil }
        return try? header(folder.appendingPathComponent("\(channel).wav")).data
    }

    /// The RIFF and data sizes a WAV header declares, and the file's size (only the header is read).
    func header(_ url: URL) throws -> (riff: Int, data: Int, file: Int) {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let bytes = [UInt8](handle.readData(ofLength: 44))
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
        guard bytes.count == 44, Array(bytes[0..<4]) == Array("RIFF".utf8), Array(bytes[36..<40]) == Array("data".utf8) else {
            throw WireTestError("no WAV header in \(url.lastPathComponent)")
        }
        func le32(_ offset: Int) -> Int { Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24 }
        return (le32(4), le32(40), size)
    }

    /// The value of an unlabelled sample in `/metrics`.
    func metric(_ setup: Setup, _ name: String) async -> Int? {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(setup.port)/metrics")!)
        request.timeoutInterval = 5
        guard let (data, _) = try? await URLSession.shared.data(for: request) else { return nil }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name + " ") {
            return line.split(separator: " ").last.flatMap { Double($0) }.map { Int($0) }
        }
        return nil
    }

    /// An audio message as Zoom sends it: 20 ms of silence at 16 kHz for `channel` at `timestamp`.
    static func audio(channel: String, timestamp: Int64) -> RawFrame {
        .text(#"{"msg_type":14,"content":{"user_id":0,"channel_id":"\#(channel)","data":"\#(Data(count: 640).base64EncodedString())","timestamp":\#(timestamp)}}"#)
    }

    @Test("security #3: timestamps 1000, 999999999999999999 and negative ones, and a huge send_rate, are counted as malformed and dropped; the relay, this stream and the other stream go on, and every WAV stays valid")
    func hostileNumbers() async throws {
        try await withRelay(calls: 2) { setup in
            let (engagement, stream) = setup.calls[0]
            let malformedBefore = await metric(setup, "rtms_relay_malformed_frames_total") ?? 0
            try await setup.simulator.sendRawFrames(engagementID: engagement, [
                Self.audio(channel: "1", timestamp: 1000),
                Self.audio(channel: "1", timestamp: 999_999_999_999_999_999),
                Self.audio(channel: "2", timestamp: -5),
                Self.audio(channel: "2", timestamp: -999_999_999_999_999_999),
                // A media handshake answer confirming absurd parameters (the relay only reads it for the format).
                .text(#"{"msg_type":4,"status_code":0,"media_params":{"audio":{"channel":1000,"sample_rate":99,"codec":1,"send_rate":999999999999999999}}}"#),
            ], signaling: false, media: true)
            try await waitUntil(timeout: .seconds(10), "4 more malformed frames") {
                (await metric(setup, "rtms_relay_malformed_frames_total") ?? 0) >= malformedBefore + 4
            }
            #expect(setup.relay.process.isRunning, "relay log: \(setup.relay.stderr.suffix(2000))")
            #expect(setup.relay.stderr.contains("out-of-range timestamp dropped"))
            #expect(setup.relay.stderr.contains("send_rate 999999999999999999"))
            // Both streams keep recording: every party's file grows by at least a second of audio.
            let before = setup.calls.flatMap { call in SimulatedAudio.channelIDs.map { dataBytes(setup, call.stream, $0) ?? 0 } }
            try await waitUntil(timeout: .seconds(20), "every party's file to grow by a second (relay log: \(setup.relay.stderr.suffix(600)))") {
                let now = setup.calls.flatMap { call in SimulatedAudio.channelIDs.map { dataBytes(setup, call.stream, $0) ?? 0 } }
                return zip(before, now).allSatisfy { $1 >= $0 + 32_000 }
            }
            let folder = try streamFolder(setup, stream)
            await setup.simulator.stopAllStreams()
            // Every stream's files are final only once its own stream.json says stopped.
            let folders = try setup.calls.map { try streamFolder(setup, $0.stream) }
            try await waitUntil(timeout: .seconds(15), "every stream.json to say stopped") {
                folders.allSatisfy { folder in
                    (try? String(contentsOf: folder.appendingPathComponent("stream.json"), encoding: .utf8))?.contains(#""state" : "stopped""#) == true
                }
            }
            for call in setup.calls {
                for file in try FileManager.default.contentsOfDirectory(atPath: try streamFolder(setup, call.stream).path) where file.hasSuffix(".wav") {
                    let (riff, data, size) = try header(try streamFolder(setup, call.stream).appendingPathComponent(file))
                    #expect(data == size - 44 && riff == size - 8, "\(file): header says \(data) bytes, file holds \(size - 44)")
                    // No hole towards a far-away timestamp: a few seconds of 16 kHz audio, not gigabytes.
                    #expect(data < 60 * 32_000 * 2, "\(file): \(data) bytes")
                }
            }
            let manifest = try String(contentsOf: folder.appendingPathComponent("stream.json"), encoding: .utf8)
            #expect(manifest.contains(#""mismatched_frames" : 0"#), "frames after the bogus handshake no longer fit the file: \(manifest)")
        }
    }

    @Test("security #12: a media server inventing 50 channel ids gets at most max_channels (default 8) WAV files for the stream, logged once")
    func inventedChannels() async throws {
        try await withRelay(calls: 1) { setup in
            let (engagement, stream) = setup.calls[0]
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            try await setup.simulator.sendRawFrames(engagementID: engagement, (0..<50).map { Self.audio(channel: "invented-\($0)", timestamp: now) },
                                                    signaling: false, media: true)
            try await waitUntil(timeout: .seconds(15), "the refusal in the log (relay log: \(setup.relay.stderr.suffix(600)))") {
                setup.relay.stderr.contains("more channels than max_channels")
            }
            // Let the sink's once-a-second flush write whatever it would.
            try await Task.sleep(for: .seconds(2))
            #expect(setup.relay.process.isRunning)
            let folder = try streamFolder(setup, stream)
            let parties = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".wav") && $0 != "mixed.wav" }
            #expect(parties.count == ChannelAdmission.defaultLimit, "\(parties.sorted())")
            #expect(parties.contains("1.wav") && parties.contains("2.wav"))
            #expect(setup.relay.stderr.components(separatedBy: "more channels than max_channels").count == 2, "logged more than once")
            await setup.simulator.stopAllStreams()
            try await waitUntil(timeout: .seconds(15), "stream.json to count the refused frames") {
                let manifest = (try? String(contentsOf: folder.appendingPathComponent("stream.json"), encoding: .utf8)) ?? ""
                return manifest.contains(#""state" : "stopped""#) && manifest.contains(#""refused_channel_frames" : 44"#)
            }
        }
    }
}

/// A file the test expected is missing or not what it should be.
struct WireTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
