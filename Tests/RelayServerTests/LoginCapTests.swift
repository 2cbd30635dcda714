import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Security review finding #7: a flood of `/api/auth/login` cannot grow the pending logins without bound.
extension AccessControlTests {
    @Test("security #7: past 1,000 pending logins /api/auth/login answers 503 with a JSON error instead of storing more")
    func loginFlood() async throws {
        let (relay, _) = try makeRelay()
        let headers: HTTPFields = [.authorization: "Bearer operator-token-123", .contentType: "application/json"]
        try await relay.makeApplication().test(.router) { client in
            for _ in 0..<1000 {
                try await client.execute(uri: "/api/auth/login", method: .post, headers: headers, body: ByteBuffer(string: "{}")) { #expect($0.status == .ok) }
            }
            try await client.execute(uri: "/api/auth/login", method: .post, headers: headers, body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "60")
                #expect(String(buffer: response.body) == #"{"error":"too many Zoom logins in progress (1000); try again in a few minutes"}"#)
            }
        }
        #expect(await relay.zoom?.logins.count == 1000)
    }
}
