import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RelayTesting

/// `/health` as JSON, the fields the fault tests look at.
struct Health: Decodable {
    struct Sink: Decodable {
        var state: String
        var delivered: UInt64
        var dropped: UInt64
        var failed: UInt64
        var depth: Int
        var lastError: String?
        var degradedReason: String?

        enum CodingKeys: String, CodingKey {
            case state, delivered, dropped, failed, depth
            case lastError = "last_error"
            case degradedReason = "degraded_reason"
        }

        /// What the sink says is wrong: its own report, else the last error while it restarts.
        var trouble: String? { degradedReason ?? (state == "restarting" ? lastError : nil) }
    }

    var status: String
    var sinks: [String: Sink]
    var streams: Int
}

/// One plain HTTP exchange with the relay: status and body.
func http(_ url: String, method: HTTPMethod = .GET, json: String? = nil, timeout: TimeAmount = .seconds(30)) async throws -> (status: Int, body: String) {
    var request = HTTPClientRequest(url: url)
    request.method = method
    if let json {
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
    }
    let response = try await HTTPClient.shared.execute(request, timeout: timeout)
    let body = try await response.body.collect(upTo: 4 << 20)
    return (Int(response.status.code), String(buffer: body))
}

extension RelayHarness {
    var baseURL: String { "http://127.0.0.1:\(relayPort)" }

    /// `GET /health`, with the HTTP status (200 ok, 503 degraded).
    func health() async throws -> (status: Int, report: Health) {
        let (status, body) = try await http(baseURL + "/health", timeout: .seconds(10))
        return (status, try JSONDecoder().decode(Health.self, from: Data(body.utf8)))
    }

    /// The value of one unlabelled (or exactly labelled) sample in `/metrics`.
    func metric(_ name: String) async throws -> Double? {
        let (_, body) = try await http(baseURL + "/metrics", timeout: .seconds(10))
        for line in body.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    /// Starts `count` calls and waits until each streams audio; returns (engagement, stream) pairs.
    func startCalls(_ count: Int, framesEach: Int = 10) async throws -> [(engagement: String, stream: String)] {
        var calls: [(String, String)] = []
        for _ in 0..<count {
            let engagement = await simulator.createEngagement()
            calls.append((engagement, try await simulator.startStream(engagementID: engagement).streamID))
        }
        for (_, stream) in calls { try await waitForAudio(stream: stream, perChannel: framesEach, timeout: .seconds(60)) }
        return calls
    }

    /// Stops the calls, waits for each stream's stop, and returns what is wrong with any stream's audio.
    func stopCallsAndCheckAudio(_ calls: [(engagement: String, stream: String)]) async throws -> [String] {
        for (engagement, _) in calls { try await simulator.stopStream(engagementID: engagement) }
        for (_, stream) in calls { try await waitFor(.streamStopped, stream: stream) }
        try await Task.sleep(for: .milliseconds(300))
        var problems: [String] = []
        for (_, stream) in calls { problems += await audioProblems(streamID: stream).map { "\(stream): \($0)" } }
        return problems
    }
}

/// Open file descriptors of this process.
func openFileDescriptors() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
}

/// A fault test's own set-up failed (not the relay).
struct SetupError: Error, CustomStringConvertible {
    var description: String
}
