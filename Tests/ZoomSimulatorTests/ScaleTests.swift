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
                    group.addTask { await Self.play(stream, h: h, received: received) }
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
    static func play(_ stream: StartedStream, h: Harness, received: FrameCounter) async {
        let logger = Logger(label: "scale")
        let signalingURL = h.endpoints.signalingURLs[0], mediaURL = h.endpoints.mediaURLs[0]["audio"]!
        let handshake = h.signalingHandshake(stream), data = h.dataHandshake(stream)
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
