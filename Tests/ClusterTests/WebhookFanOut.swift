import AsyncHTTPClient
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore

/// A load balancer that misbehaves on purpose: every webhook Zoom (the simulator) sends is forwarded, byte for
/// byte with its signature headers, to every relay still listed, all at once — a duplicated delivery.
final class WebhookFanOut: Sendable {
    private let targets: NIOLockedValueBox<[Int]>
    /// How many deliveries each relay port answered 200.
    let answered = NIOLockedValueBox<[Int: Int]>([:])

    init(relayPorts: [Int]) {
        targets = NIOLockedValueBox(relayPorts)
    }

    /// Stops forwarding to a relay (it was killed).
    func remove(_ port: Int) {
        targets.withLockedValue { $0.removeAll { $0 == port } }
    }

    /// The application on a free port; `onRunning` gets the port.
    func application(onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let signature = request.headers[.init("x-zm-signature")!] ?? ""
            let timestamp = request.headers[.init("x-zm-request-timestamp")!] ?? ""
            await withTaskGroup(of: Void.self) { group in
                for port in self.targets.withLockedValue({ $0 }) {
                    group.addTask {
                        var forward = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/webhooks/zoom")
                        forward.method = .POST
                        forward.headers.add(name: "content-type", value: "application/json")
                        forward.headers.add(name: "x-zm-signature", value: signature)
                        forward.headers.add(name: "x-zm-request-timestamp", value: timestamp)
                        forward.body = .bytes(body)
                        if let response = try? await HTTPClient.shared.execute(forward, timeout: .seconds(3)), response.status == .ok {
                            self.answered.withLockedValue { $0[port, default: 0] += 1 }
                        }
                    }
                }
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"received":true}"#)))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                           onServerRunning: { await onRunning($0.localAddress?.port ?? 0) })
    }
}
