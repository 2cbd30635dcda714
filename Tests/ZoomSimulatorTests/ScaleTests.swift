import Foundation
import Logging
import NIOCore
import Synchronization
import Testing
import WSClient
import ZoomSimulator

/// Load check, off by default: `SIM_SCALE_CALLS=1000 swift test -c release --filter ScaleTests`.
/// Plays N two-party calls in-process to N minimal raw clients and checks that the frames arrive at real-time pace.
@Suite struct ScaleTests {
    static let calls = Int(ProcessInfo.processInfo.environment["SIM_SCALE_CALLS"] ?? "") ?? 0
    static let seconds = Int(ProcessInfo.processInfo.environment["SIM_SCALE_SECONDS"] ?? "") ?? 10

    static let warmUp = Int(ProcessInfo.processInfo.environment["SIM_SCALE_WARMUP"] ?? "") ?? 10
    static let readyFile = ProcessInfo.processInfo.environment["SIM_SCALE_READY_FILE"]
    static let simulatorPID = ProcessInfo.processInfo.environment["SIM_SCALE_PID"]

    /// Against an external `rtms-relay simulate --calls N --ready-file F` process: measures that process's CPU.
    @Test("an external simulator process keeps real-time pace", .enabled(if: readyFile != nil))
    func externalSimulator() async throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.readyFile!))
        let ready = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let signaling = try #require((ready["signaling_urls"] as? [String])?.first)
        let mediaURL = signaling.replacingOccurrences(of: "/signaling", with: "/media/audio")
        let secret = ProcessInfo.processInfo.environment["SIM_SCALE_SECRET"] ?? "SIMCLIENTSECRET"
        let clientID = ProcessInfo.processInfo.environment["SIM_SCALE_CLIENT"] ?? "SIMCLIENTID"
        let streams = try #require(ready["streams"] as? [[String: String]]).map {
            StartedStream(engagementID: $0["engagement_id"]!, streamID: $0["rtms_stream_id"]!, serverURL: $0["server_urls"]!,
                signature: RTMSSignature.compute(clientID: clientID, clientSecret: secret, instanceID: $0["engagement_id"]!, streamID: $0["rtms_stream_id"]!))
        }
        let received = FrameCounter()
        await withTaskGroup(of: Void.self) { group in
            for stream in streams {
                group.addTask { await Self.play(stream, signalingURL: signaling, mediaURL: mediaURL, received: received) }
            }
            // Warm-up: connecting a thousand calls takes seconds, and the audio buffered meanwhile is flushed first.
            try? await Task.sleep(for: .seconds(Self.warmUp))
            let before = received.value, cpuBefore = Self.processCPU(Self.simulatorPID), start = ContinuousClock.now
            try? await Task.sleep(for: .seconds(Self.seconds))
            let elapsed = Double((ContinuousClock.now - start).milliseconds) / 1000
            let rate = Double(received.value - before) / elapsed
            let cpu = (Self.processCPU(Self.simulatorPID) - cpuBefore) / elapsed
            print("scale(external): \(streams.count) calls, \(Int(rate)) frames/s received (expected \(streams.count * 100)), simulator process CPU \(String(format: "%.2f", cpu)) cores")
            #expect(rate >= Double(streams.count * 100) * 0.97)
            group.cancelAll()
        }
    }

    /// CPU seconds used so far by process `pid` (utime + stime from /proc).
    static func processCPU(_ pid: String?) -> Double {
        guard let pid, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return 0 }
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        guard fields.count > 13, let utime = Double(fields[11]), let stime = Double(fields[12]) else { return 0 }
        return (utime + stime) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    @Test("N concurrent two-party calls at real-time pace", .enabled(if: calls > 0))
    func realTimePace() async throws {
        try await Harness.run({ $0.webhookURL = nil }) { h in
            let received = FrameCounter()
            var streams: [StartedStream] = []
            for _ in 0..<Self.calls { streams.append(try await h.startCall()) }
            let started = ContinuousClock.now
            let cpuStart = Self.cpuSeconds()
            await withTaskGroup(of: Void.self) { group in
                for stream in streams {
                    group.addTask {
                        await Self.play(stream, signalingURL: h.endpoints.signalingURLs[0], mediaURL: h.endpoints.mediaURLs[0]["audio"]!, received: received)
                    }
                }
                // Warm up (connects and the initial buffer flush), then measure a steady window.
                try? await Task.sleep(for: .seconds(3))
                let before = received.value
                let cpuBefore = Self.cpuSeconds()
                let windowStart = ContinuousClock.now
                try? await Task.sleep(for: .seconds(Self.seconds))
                let frames = received.value - before
                let elapsed = Double((ContinuousClock.now - windowStart).milliseconds) / 1000
                let rate = Double(frames) / elapsed
                let expected = Double(Self.calls * 2 * 50)
                let cpu = Self.cpuSeconds() - cpuBefore
                print("scale: \(Self.calls) calls, \(Int(rate)) frames/s received (expected \(Int(expected))), process CPU \(String(format: "%.2f", cpu / elapsed)) cores (simulator + clients), setup \(started - ContinuousClock.now), total CPU \(Self.cpuSeconds() - cpuStart) s")
                #expect(rate >= expected * 0.97)
                group.cancelAll()
            }
        }
    }

    /// A minimal client: handshakes, CLIENT_READY_ACK, answers keep-alives, counts audio frames.
    static func play(_ stream: StartedStream, signalingURL: String, mediaURL: String, received: FrameCounter) async {
        let logger = Logger(label: "scale")
        let handshake = Harness.signalingHandshake(stream), data = Harness.dataHandshake(stream)
        let json = { (object: [String: Any]) in String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self) }
        let signalingText = json(handshake), dataText = json(data), ready = json(["msg_type": 7, "rtms_stream_id": stream.streamID])
        _ = try? await WebSocketClient.connect(url: signalingURL, logger: logger) { inbound, outbound, _ in
            try await outbound.write(.text(signalingText))
            var iterator = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
            _ = try await iterator.next()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    _ = try? await WebSocketClient.connect(url: mediaURL, logger: logger) { mediaIn, mediaOut, _ in
                        try await mediaOut.write(.text(dataText))
                        var first = true
                        for try await frame in mediaIn {
                            if first {
                                first = false
                                try await outbound.write(.text(ready))
                                continue
                            }
                            // Audio is by far the most frequent message; count frames without parsing them.
                            if frame.data.readableBytes > 600 { received.increment() }
                        }
                    }
                }
                while let message = try await iterator.next() {
                    if case .text(let text) = message, text.contains("\"msg_type\":12") {
                        let ts = text.split(separator: "\"timestamp\":").last?.prefix { $0.isNumber } ?? ""
                        try await outbound.write(.text("{\"msg_type\":13,\"timestamp\":\(ts)}"))
                    }
                }
                group.cancelAll()
            }
        }
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// Frames received by all load clients.
final class FrameCounter: Sendable {
    private let count = Atomic<Int>(0)
    func increment() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
