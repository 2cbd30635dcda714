import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import RelayCore
import RelayServer
import RelayTesting
import Testing
import ZoomAPI

@Suite("Who may use the browser API; the Home URL; security headers")
struct AccessControlTests {
    static let secret = "app-client-secret"

    func makeRelay(extra: String = "", publicURL: String = "http://localhost:3001") throws -> (Relay, URL) {
        let directory = try RelayProcess.makeTemporaryDirectory()
        try "<html><head><title>agent</title></head><body>page</body></html>".write(to: directory.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
        try "body { color: black }".write(to: directory.appendingPathComponent("app.css"), atomically: true, encoding: .utf8)
        let yaml = """
            server:
              public_url: \(publicURL)
              access_token: operator-token-123
              web_root: \(directory.path)
            \(extra)
            zoom:
              client_id: cid
              client_secret: \(Self.secret)
              webhook_secret: wh
              oauth_url: http://127.0.0.1:9
              api_url: http://127.0.0.1:9/v2
            token_store:
              path: \(directory.path)/relay.sqlite
            """
        var registry = SinkRegistry()
        registry.register(RecordingSink.self)
        let configuration = try ConfigLoader(registry: registry, environment: [:]).parse(yaml: yaml, file: "test.yaml", environment: [:])
        return (try Relay(configuration: configuration, sinkRegistry: registry, logger: Logger(label: "test")), directory)
    }

    func control(_ client: some TestClientProtocol, headers: HTTPFields = [:], query: String = "", expect status: HTTPResponse.Status, _ message: String? = nil) async throws {
        var headers = headers
        headers[.contentType] = "application/json"
        try await client.execute(uri: "/api/zoom/rtms/control\(query)", method: .post, headers: headers, body: ByteBuffer(string: #"{"engagementId":"e1","action":"dance"}"#)) { response in
            #expect(response.status == status)
            if let message { #expect(String(buffer: response.body) == message) }
        }
    }

    @Test("the control route refuses callers without credentials, and forged or expired tokens")
    func refusesStrangers() async throws {
        let (relay, _) = try makeRelay()
        try await relay.makeApplication().test(.router) { client in
            try await control(client, expect: .unauthorized, #"{"error":"authentication required: open the app in Zoom, or send Authorization: Bearer <token>"}"#)
            try await control(client, headers: [.authorization: "Bearer wrong"], expect: .unauthorized, #"{"error":"invalid or expired token; reopen the app in Zoom"}"#)
            let expired = SessionToken.Signer(clientSecret: Self.secret, lifetime: .seconds(1)).issue(uid: "u", aid: nil, now: EventClock.nowMillis() - 10_000)
            try await control(client, headers: [.authorization: "Bearer \(expired)"], expect: .unauthorized)
            let foreign = SessionToken.Signer(clientSecret: "other-app").issue(uid: "u", aid: nil)
            try await control(client, headers: [.authorization: "Bearer \(foreign)"], expect: .unauthorized)
        }
    }

    @Test("the operator token and a session token pass by header; ?access_token= does not authorize a POST")
    func acceptsCredentials() async throws {
        let (relay, _) = try makeRelay()
        let session = SessionToken.Signer(clientSecret: Self.secret).issue(uid: "agent-1", aid: "acc")
        try await relay.makeApplication().test(.router) { client in
            // Past access control, the unknown action is the next thing refused: 400.
            let bad = #"{"error":"unknown action 'dance' (use start, stop, pause or resume)"}"#
            try await control(client, headers: [.authorization: "Bearer operator-token-123"], expect: .badRequest, bad)
            try await control(client, headers: [.authorization: "Bearer \(session)"], expect: .badRequest, bad)
            try await control(client, query: "?access_token=\(session)", expect: .unauthorized)
        }
    }

    @Test("the SSE stream and the engagement routes are behind access control too; ?access_token= works for EventSource")
    func protectedReadRoutes() async throws {
        let (relay, _) = try makeRelay()
        let session = SessionToken.Signer(clientSecret: Self.secret).issue(uid: "agent-1", aid: nil)
        try await relay.makeApplication().test(.router) { client in
            for uri in ["/api/events?engagement=e1", "/api/engagements", "/api/engagement/active"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .unauthorized, "\(uri)")
                }
            }
            // Past access control: this relay has no web sink, which is the next thing the SSE route says.
            try await client.execute(uri: "/api/events?engagement=e1&access_token=\(session)", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("no web sink is configured"))
            }
            try await client.execute(uri: "/api/engagements", method: .get, headers: [.authorization: "Bearer operator-token-123"]) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"engagements":[]}"#)
            }
        }
    }

    @Test("allow_anonymous opens the browser API on loopback")
    func anonymous() async throws {
        let (relay, _) = try makeRelay(extra: "  allow_anonymous: true")
        try await relay.makeApplication().test(.router) { client in
            try await control(client, expect: .badRequest)
        }
    }

    @Test("malformed control bodies are 400 with the expected shape")
    func malformedControl() async throws {
        let (relay, _) = try makeRelay()
        try await relay.makeApplication().test(.router) { client in
            try await client.execute(uri: "/api/zoom/rtms/control", method: .post, headers: [.authorization: "Bearer operator-token-123", .contentType: "application/json"], body: ByteBuffer(string: "{not json")) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("expected JSON"))
            }
        }
    }

    @Test("the Home URL hands a valid app context a session token, and a tampered one a reason")
    func homeURL() async throws {
        let (relay, _) = try makeRelay()
        let context = try AppContext.encrypt(Data(#"{"typ":"panel","uid":"agent-7","aid":"acc-1","ts":\#(EventClock.nowMillis())}"#.utf8), clientSecret: Self.secret)
        try await relay.makeApplication().test(.router) { client in
            var token = ""
            try await client.execute(uri: "/", method: .get, headers: [.init("x-zoom-app-context")!: context]) { response in
                #expect(response.status == .ok)
                let html = String(buffer: response.body)
                let match = try #require(html.firstMatch(of: /<meta name="rtms-relay-session" content="([^"]+)">/))
                token = String(match.1)
                #expect(html.contains("<body>page</body>"))
            }
            let claims = try #require(SessionToken.Signer(clientSecret: Self.secret).verify(token))
            #expect(claims.uid == "agent-7" && claims.aid == "acc-1")
            var tampered = [UInt8](Data(base64Encoded: context)!)
            tampered[tampered.count - 3] ^= 0xFF
            try await client.execute(uri: "/", method: .get, headers: [.init("x-zoom-app-context")!: Data(tampered).base64EncodedString()]) { response in
                let html = String(buffer: response.body)
                #expect(!html.contains("rtms-relay-session"))
                #expect(html.contains(#"<meta name="rtms-relay-auth-error" content="x-zoom-app-context could not be decrypted (wrong app or altered)">"#))
            }
            try await client.execute(uri: "/app.css", method: .get) { response in
                #expect(String(buffer: response.body) == "body { color: black }")
            }
        }
    }

    @Test("responses carry CSP frame-ancestors for Zoom and no HSTS on plain HTTP; HSTS on HTTPS")
    func securityHeaders() async throws {
        let (plain, _) = try makeRelay()
        try await plain.makeApplication().test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                let csp = try #require(response.headers[.contentSecurityPolicy])
                #expect(csp.contains("frame-ancestors 'self' https://*.zoom.us https://*.zoom.com"))
                #expect(response.headers[.init("X-Content-Type-Options")!] == "nosniff")
                #expect(response.headers[.strictTransportSecurity] == nil)
            }
        }
        let (secure, _) = try makeRelay(publicURL: "https://relay.example.com")
        try await secure.makeApplication().test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.headers[.strictTransportSecurity]?.hasPrefix("max-age=") == true)
            }
        }
    }

    @Test("login (with a caller) answers Zoom's authorize URL with state and PKCE; a callback with an unknown state changes nothing")
    func loginAndForgedCallback() async throws {
        let (relay, _) = try makeRelay()
        try await relay.makeApplication().test(.router) { client in
            let headers: HTTPFields = [.authorization: "Bearer operator-token-123", .contentType: "application/json"]
            try await client.execute(uri: "/api/auth/login", method: .post, headers: headers, body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .ok)
                let body = String(buffer: response.body)
                #expect(body.hasPrefix(#"{"authorize_url":"http://127.0.0.1:9/oauth/authorize?response_type=code&client_id=cid&redirect_uri=http://localhost:3001/api/auth/callback&state="#), "\(body)")
                #expect(body.contains("code_challenge_method=S256"))
            }
            try await client.execute(uri: "/api/auth/callback?code=abc&state=forged", method: .get) { response in
                #expect(response.status == .found)
                #expect(response.headers[.location] == "/?auth=error&reason=expired")
            }
            try await client.execute(uri: "/api/auth/status", method: .get, headers: headers) { response in
                #expect(String(buffer: response.body) == #"{"accounts":[],"authenticated":false,"configured":true,"problem":"no Zoom account is connected"}"#)
            }
        }
    }
}
