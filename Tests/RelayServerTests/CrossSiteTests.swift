import Foundation
import Hummingbird
import HummingbirdTesting
import RelayCore
import RelayServer
import RelayTesting
import Testing

/// Security review finding #6: `allow_anonymous` behind tunnels and DNS rebinding, and cross-site POSTs.
extension AccessControlTests {
    @Test("security #6: a text/plain control POST (a cross-site simple request) is 415, a foreign Origin is 403, the webhook is exempt")
    func crossSitePost() async throws {
        let (relay, _) = try makeRelay()
        let body = ByteBuffer(string: #"{"engagementId":"e1","action":"stop"}"#)
        try await relay.makeApplication().test(.router) { client in
            let token: HTTPFields = [.authorization: "Bearer operator-token-123"]
            var plain = token
            plain[.contentType] = "text/plain;charset=UTF-8"
            plain[.origin] = "https://attacker.example"
            try await client.execute(uri: "/api/zoom/rtms/control", method: .post, headers: plain, body: body) { response in
                #expect(response.status == .forbidden)
            }
            plain[.origin] = nil
            try await client.execute(uri: "/api/zoom/rtms/control", method: .post, headers: plain, body: body) { response in
                #expect(response.status == .unsupportedMediaType)
                #expect(String(buffer: response.body) == #"{"error":"send the body as JSON with Content-Type: application/json"}"#)
            }
            var foreign = token
            foreign[.contentType] = "application/json"
            foreign[.origin] = "http://localhost:3001.attacker.example"
            try await client.execute(uri: "/api/zoom/rtms/control", method: .post, headers: foreign, body: body) { response in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body).contains("cross-site request refused"))
            }
            // From the relay's own page (public_url's origin) the request reaches the route.
            var own = token
            own[.origin] = "http://localhost:3001"
            try await control(client, headers: own, expect: .badRequest)
            // Zoom's webhook is checked by its signature, whatever its type: 401, not 415.
            try await client.execute(uri: "/api/webhooks/zoom", method: .post, headers: [.contentType: "text/plain"], body: body) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test("security #6: anonymous callers need a loopback Host and Origin and no forwarding headers (DNS rebinding, tunnels)")
    func anonymousStaysLocal() async throws {
        let (relay, _) = try makeRelay(extra: "  allow_anonymous: true")
        try await relay.makeApplication().test(.live) { client in
            let port = try #require(client.port)
            func get(_ headers: String) throws -> Int? {
                try RawHTTPConnection.exchange(port: port, "GET /api/engagements HTTP/1.1\r\n\(headers)").status
            }
            #expect(try get("Host: localhost:\(port)\r\n") == 200)
            #expect(try get("Host: 127.0.0.1:\(port)\r\nOrigin: http://127.0.0.1:\(port)\r\n") == 200)
            #expect(try get("Host: [::1]:\(port)\r\n") == 200)
            // DNS rebinding: the attacker's name resolves to 127.0.0.1, the browser still sends it in Host.
            #expect(try get("Host: attacker.example\r\n") == 403)
            #expect(try get("Host: 127.0.0.1.attacker.example:\(port)\r\n") == 403)
            // A tunnel or reverse proxy on this machine forwarding outside traffic.
            #expect(try get("Host: localhost:\(port)\r\nX-Forwarded-For: 203.0.113.7\r\n") == 403)
            #expect(try get("Host: localhost:\(port)\r\nForwarded: for=203.0.113.7;proto=https\r\n") == 403)
            // Another site's page, even on the right Host.
            #expect(try get("Host: localhost:\(port)\r\nOrigin: https://attacker.example\r\n") == 403)
            let refused = try RawHTTPConnection.exchange(port: port, "GET /api/engagements HTTP/1.1\r\nHost: attacker.example\r\n")
            #expect(refused.text.contains(#"{"error":"anonymous access is for this machine only: Host must be localhost, 127.0.0.1 or [::1], not 'attacker.example'"}"#))
            // A cross-site text/plain control POST from a foreign page with anonymous on.
            let post = try RawHTTPConnection.exchange(
                port: port, "POST /api/zoom/rtms/control HTTP/1.1\r\nHost: localhost:\(port)\r\nOrigin: https://attacker.example\r\nContent-Type: text/plain\r\n",
                body: #"{"engagementId":"e1","action":"stop"}"#
            )
            #expect(post.status == 403)
        }
    }

    @Test("security #6: check-config refuses allow_anonymous with a tunnel public_url or a 127.* host name", arguments: [
        ("  host: 127.0.0.1\n  public_url: https://my-relay.ngrok.app\n", "server.public_url is on this machine too"),
        ("  host: 127.attacker.example\n", "server.host is a loopback address"),
        ("  host: 127.0.0.1.nip.io\n", "server.host is a loopback address"),
    ])
    func anonymousConfig(server: String, message: String) throws {
        let yaml = "server:\n\(server)  allow_anonymous: true\n"
        #expect { try ConfigLoader(registry: SinkRegistry(), environment: [:]).parse(yaml: yaml, file: "config.yaml", environment: [:]) } throws: { error in
            "\(error)".contains("server.allow_anonymous: is only allowed when \(message)")
        }
        // Loopback host and public URL stay allowed.
        let local = "server:\n  host: 127.0.0.1\n  public_url: http://127.0.0.1:3001\n  allow_anonymous: true\n"
        #expect(try ConfigLoader(registry: SinkRegistry(), environment: [:]).parse(yaml: local, file: "config.yaml", environment: [:]).server.allowAnonymous)
    }
}
