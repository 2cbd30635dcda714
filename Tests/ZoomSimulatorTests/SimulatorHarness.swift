import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import ZoomSimulator

/// A received webhook, with whether its signature verified against the secret token.
struct ReceivedWebhook: @unchecked Sendable {
    let event: String
    let payload: [String: Any]
    let signatureValid: Bool
}

/// Runs a simulator (and a webhook receiver) for one test, on ephemeral loopback ports.
struct Harness: Sendable {
    let simulator: ZoomSimulator
    let endpoints: SimulatorEndpoints
    let webhooks: WebhookStore
    let configuration: SimulatorConfiguration

    static let secretToken = "TESTWEBHOOKSECRET"

    /// Starts a receiver and a simulator pointed at it, runs `body`, and tears both down.
    static func run(
        _ configure: @Sendable (inout SimulatorConfiguration) -> Void = { _ in },
        _ body: (Harness) async throws -> Void
    ) async throws {
        let store = WebhookStore()
        let router = Router()
        router.post("/api/webhooks/zoom") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let bytes = Array(body.readableBytesView)
            let ts = request.headers[HTTPField.Name("x-zm-request-timestamp")!] ?? ""
            let signature = request.headers[HTTPField.Name("x-zm-signature")!] ?? ""
            let mac = HMAC<SHA256>.authenticationCode(for: Array("v0:\(ts):".utf8) + bytes, using: SymmetricKey(data: Data(secretToken.utf8)))
            let expected = "v0=" + mac.map { String(format: "%02x", $0) }.joined()
            let object = (try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]) ?? [:]
            store.append(ReceivedWebhook(event: object["event"] as? String ?? "", payload: object["payload"] as? [String: Any] ?? [:],
                signatureValid: expected == signature))
            if object["event"] as? String == "endpoint.url_validation", let plain = (object["payload"] as? [String: Any])?["plainToken"] as? String {
                let token = HMAC<SHA256>.authenticationCode(for: Data(plain.utf8), using: SymmetricKey(data: Data(secretToken.utf8)))
                    .map { String(format: "%02x", $0) }.joined()
                let json = try JSONSerialization.data(withJSONObject: ["plainToken": plain, "encryptedToken": token])
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
            }
            return Response(status: .noContent)
        }
        let port = Mutex<Int?>(nil)
        var quiet = Logger(label: "receiver")
        quiet.logLevel = .critical
        let receiver = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } }, logger: quiet)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await receiver.run() }
            var receiverPort: Int?
            for _ in 0..<500 where receiverPort == nil {
                receiverPort = port.withLock { $0 }
                try await Task.sleep(for: .milliseconds(10))
            }
            var configuration = SimulatorConfiguration()
            configuration.webhookURL = "http://127.0.0.1:\(receiverPort!)/api/webhooks/zoom"
            configuration.webhookSecretToken = secretToken
            configure(&configuration)
            var logger = Logger(label: "simulator")
            logger.logLevel = .critical
            let simulator = try ZoomSimulator(configuration: configuration, logger: logger)
            group.addTask { try await simulator.run() }
            let endpoints = try await simulator.endpoints()
            try await body(Harness(simulator: simulator, endpoints: endpoints, webhooks: store, configuration: configuration))
            group.cancelAll()
        }
    }

    /// Waits for a webhook of the given event (the n-th one, counting from 1).
    @discardableResult
    func webhook(_ event: String, occurrence: Int = 1, timeout: Duration = .seconds(10)) async throws -> ReceivedWebhook {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let matches = webhooks.all.filter { $0.event == event }
            if matches.count >= occurrence { return matches[occurrence - 1] }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("no \(event) webhook #\(occurrence); got \(webhooks.all.map(\.event))")
    }

    /// Opens a raw socket to `url`, runs `body` with it, then closes it.
    func withSocket(_ url: String, answerKeepAlives: Bool = true, _ body: (TestSocket) async throws -> Void) async throws {
        let socket = TestSocket(answerKeepAlives: answerKeepAlives)
        let ca = simulator.generatedCACertificatePEM
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await socket.run(url: url, caPEM: ca) }
            try await body(socket)
            socket.close()
            group.cancelAll()
        }
    }

    /// The signaling handshake a correct client sends.
    func signalingHandshake(_ stream: StartedStream, signature: String? = nil, key: String = "engagement_id") -> [String: Any] {
        Self.signalingHandshake(stream, signature: signature, key: key)
    }

    static func signalingHandshake(_ stream: StartedStream, signature: String? = nil, key: String = "engagement_id") -> [String: Any] {
        ["msg_type": 1, "protocol_version": 1, "sequence": 7, key: stream.engagementID, "rtms_stream_id": stream.streamID,
         "signature": signature ?? stream.signature]
    }

    /// The data handshake a correct client sends for 16 kHz L16 audio.
    func dataHandshake(_ stream: StartedStream, mediaType: Int = 1, audio: [String: Any]? = nil) -> [String: Any] {
        Self.dataHandshake(stream, mediaType: mediaType, audio: audio)
    }

    static func dataHandshake(_ stream: StartedStream, mediaType: Int = 1, audio: [String: Any]? = nil) -> [String: Any] {
        var message: [String: Any] = ["msg_type": 3, "protocol_version": 1, "sequence": 8, "meeting_uuid": stream.engagementID,
            "rtms_stream_id": stream.streamID, "signature": stream.signature, "media_type": mediaType]
        message["media_params"] = ["audio": audio ?? ["content_type": 2, "codec": 1, "sample_rate": 1, "channel": 1, "data_opt": 2, "send_rate": 20]]
        return message
    }

    /// Creates an engagement and starts its stream.
    func startCall() async throws -> StartedStream {
        let engagement = await simulator.createEngagement()
        return try await simulator.startStream(engagementID: engagement)
    }

    /// Runs the complete join (signaling, media audio, CLIENT_READY_ACK) and hands both sockets to `body`.
    func joined(_ stream: StartedStream, mediaKind: String = "audio", mediaType: Int = 1, listener: Int = 0,
        _ body: (TestSocket, TestSocket) async throws -> Void) async throws {
        try await withSocket(endpoints.signalingURLs[listener]) { signaling in
            signaling.send(signalingHandshake(stream))
            let response = try await signaling.waitFor("handshake response") { $0.msgType == 2 }
            guard response.int("status_code") == 0 else { throw TestFailure("signaling refused: \(response)") }
            try await withSocket(endpoints.mediaURLs[listener][mediaKind]!) { media in
                media.send(dataHandshake(stream, mediaType: mediaType))
                let data = try await media.waitFor("data handshake response") { $0.msgType == 4 }
                guard data.int("status_code") == 0 else { throw TestFailure("media refused: \(data)") }
                signaling.send(["msg_type": 7, "rtms_stream_id": stream.streamID])
                try await body(signaling, media)
            }
        }
    }
}

/// The webhooks the test receiver got, shared by its route and the harness.
final class WebhookStore: Sendable {
    private let mutex = Mutex<[ReceivedWebhook]>([])
    func append(_ webhook: ReceivedWebhook) { mutex.withLock { $0.append(webhook) } }
    var all: [ReceivedWebhook] { mutex.withLock { $0 } }
}
