import Foundation
import Logging
import NIOCore
import NIOSSL
import Synchronization
import WSClient

/// A decoded JSON message from the simulator. Immutable after creation, so sharing it across tasks is safe.
struct JSONMessage: @unchecked Sendable, CustomStringConvertible {
    let object: [String: Any]
    let binary: Bool

    subscript(key: String) -> Any? { object[key] }
    var msgType: Int? { object["msg_type"] as? Int }
    var int: (String) -> Int? { { self.object[$0] as? Int } }
    var content: [String: Any] { object["content"] as? [String: Any] ?? [:] }
    var event: [String: Any] { object["event"] as? [String: Any] ?? [:] }
    var description: String { String(describing: object) }
}

/// A raw RTMS client over WSClient: records everything it receives and sends what the test tells it to.
final class TestSocket: Sendable {
    enum Outgoing: Sendable {
        case json(String, binary: Bool)
        case close
    }

    private let messages = Mutex<[JSONMessage]>([])
    private let finished = Mutex<Bool>(false)
    private let closeCode = Mutex<Int?>(nil)
    /// Why the connection failed, if it did (reported in timeouts).
    let connectError = Mutex<String?>(nil)
    private let outbox: AsyncStream<Outgoing>
    private let outboxContinuation: AsyncStream<Outgoing>.Continuation
    /// Answer KEEP_ALIVE_REQ automatically (tests of keep-alive expiry turn this off).
    let answerKeepAlives: Bool

    init(answerKeepAlives: Bool = true) {
        self.answerKeepAlives = answerKeepAlives
        (outbox, outboxContinuation) = AsyncStream<Outgoing>.makeStream()
    }

    var received: [JSONMessage] { messages.withLock { $0 } }
    var isFinished: Bool { finished.withLock { $0 } }
    var serverCloseCode: Int? { closeCode.withLock { $0 } }

    func send(_ object: [String: Any], binary: Bool = false) {
        let data = try! JSONSerialization.data(withJSONObject: object)
        outboxContinuation.yield(.json(String(decoding: data, as: UTF8.self), binary: binary))
    }

    func sendRaw(_ text: String) { outboxContinuation.yield(.json(text, binary: false)) }
    func close() { outboxContinuation.yield(.close) }

    /// Connects and runs until the connection ends.
    func run(url: String, caPEM: String? = nil) async {
        var tls: TLSConfiguration?
        if let caPEM {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.trustRoots = .certificates(try! NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
            tls = configuration
        }
        let frame: WebSocketCloseFrame?
        do {
            // NIOSSL refuses an IP address as SNI; the generated certificate also names `localhost`.
            var configuration = WebSocketClientConfiguration()
            if tls != nil { configuration.sniHostname = "localhost" }
            frame = try await WebSocketClient.connect(url: url, configuration: configuration, tlsConfiguration: tls, logger: Logger(label: "test-socket")) {
            inbound, outbound, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await item in self.outbox {
                        switch item {
                        case .json(let text, let binary):
                            if binary { try await outbound.write(.binary(ByteBuffer(string: text))) } else { try await outbound.write(.text(text)) }
                        case .close:
                            try await outbound.close(.normalClosure, reason: nil)
                            return
                        }
                    }
                }
                for try await message in inbound.messages(maxSize: 1 << 22) {
                    let (data, binary): (Data, Bool) = switch message {
                    case .text(let text): (Data(text.utf8), false)
                    case .binary(let buffer): (Data(buffer.readableBytesView), true)
                    }
                    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { continue }
                    let json = JSONMessage(object: object, binary: binary)
                    self.messages.withLock { $0.append(json) }
                    if self.answerKeepAlives, json.msgType == 12 {
                        self.send(["msg_type": 13, "timestamp": object["timestamp"] ?? 0])
                    }
                }
                group.cancelAll()
            }
            }
        } catch {
            connectError.withLock { $0 = "\(error)" }
            frame = nil
        }
        closeCode.withLock { $0 = frame.map { $0.closeCode == .normalClosure ? 1000 : -1 } }
        finished.withLock { $0 = true }
        outboxContinuation.finish()
    }

    /// Waits for the first received message matching `predicate` (searching from the start).
    @discardableResult
    func waitFor(_ what: String = "message", timeout: Duration = .seconds(10), _ predicate: (JSONMessage) -> Bool) async throws -> JSONMessage {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let match = received.first(where: predicate) { return match }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("timed out waiting for \(what); got \(received.map { $0.msgType ?? -1 }) \(connectError.withLock { $0 } ?? "")")
    }

    /// Waits until the connection has ended.
    func waitUntilFinished(timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !isFinished {
            guard ContinuousClock.now < deadline else { throw TestFailure("connection still open") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func audio() -> [JSONMessage] { received.filter { $0.msgType == 14 } }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
