import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import ZoomSimulator

/// OAuth and REST, from the client side over real HTTP.
@Suite struct HTTPTests {
    /// Redirects are not followed: the authorize step's 302 is what the tests look at.
    static let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    static func request(_ url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], body: String? = nil) async throws -> (Int, [String: Any], String?) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await client.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any]) ?? [:]
        return (Int(response.status.code), object, response.headers.first(name: "location"))
    }

    static func basic(_ configuration: SimulatorConfiguration) -> (String, String) {
        ("authorization", "Basic " + Data("\(configuration.clientID):\(configuration.clientSecret)".utf8).base64EncodedString())
    }

    static let form = ("content-type", "application/x-www-form-urlencoded")

    /// Runs authorize with a PKCE S256 challenge and returns the code from the redirect.
    static func authorize(_ h: Harness, verifier: String, state: String = "xyz") async throws -> String {
        let challenge = PKCE.challenge(verifier)
        let (status, _, location) = try await request(
            "\(h.endpoints.oauthBaseURL)/oauth/authorize?response_type=code&client_id=\(h.configuration.clientID)&redirect_uri=http%3A%2F%2Flocalhost%2Fcb&state=\(state)&code_challenge=\(challenge)&code_challenge_method=S256")
        #expect(status == 302)
        let components = URLComponents(string: location ?? "")
        #expect(components?.host == "localhost")
        #expect(components?.queryItems?.first { $0.name == "state" }?.value == state)
        return try #require(components?.queryItems?.first { $0.name == "code" }?.value)
    }

    @Test("authorization code: PKCE verified, single use, redirect URI must match")
    func authorizationCode() async throws {
        try await Harness.run { h in
            let tokenURL = "\(h.endpoints.oauthBaseURL)/oauth/token"
            let code = try await Self.authorize(h, verifier: "verifier-0123456789-0123456789-0123456789")
            let wrongVerifier = try await Self.request(tokenURL, method: .POST, headers: [Self.basic(h.configuration), Self.form],
                body: "grant_type=authorization_code&code=\(code)&redirect_uri=http%3A%2F%2Flocalhost%2Fcb&code_verifier=nope")
            #expect(wrongVerifier.0 == 400)
            #expect(wrongVerifier.1["error"] as? String == "invalid_grant")

            let code2 = try await Self.authorize(h, verifier: "verifier-0123456789-0123456789-0123456789")
            let wrongRedirect = try await Self.request(tokenURL, method: .POST, headers: [Self.basic(h.configuration), Self.form],
                body: "grant_type=authorization_code&code=\(code2)&redirect_uri=http%3A%2F%2Fevil%2Fcb&code_verifier=verifier-0123456789-0123456789-0123456789")
            #expect(wrongRedirect.0 == 400)

            let code3 = try await Self.authorize(h, verifier: "verifier-0123456789-0123456789-0123456789")
            let body = "grant_type=authorization_code&code=\(code3)&redirect_uri=http%3A%2F%2Flocalhost%2Fcb&code_verifier=verifier-0123456789-0123456789-0123456789"
            let badClient = try await Self.request(tokenURL, method: .POST, headers: [("authorization", "Basic eDp5"), Self.form], body: body)
            #expect(badClient.0 == 401)
            let ok = try await Self.request(tokenURL, method: .POST, headers: [Self.basic(h.configuration), Self.form], body: body)
            #expect(ok.0 == 200)
            #expect(ok.1["access_token"] is String)
            #expect(ok.1["refresh_token"] is String)
            #expect(ok.1["token_type"] as? String == "bearer")
            let reused = try await Self.request(tokenURL, method: .POST, headers: [Self.basic(h.configuration), Self.form], body: body)
            #expect(reused.0 == 400)
            #expect(reused.1["error"] as? String == "invalid_grant")
        }
    }

    @Test("refresh tokens rotate: a used refresh token is dead")
    func refreshRotation() async throws {
        try await Harness.run { h in
            let tokenURL = "\(h.endpoints.oauthBaseURL)/oauth/token"
            let verifier = "another-verifier-0123456789-0123456789"
            let code = try await Self.authorize(h, verifier: verifier)
            let first = try await Self.request(tokenURL, method: .POST, headers: [Self.basic(h.configuration), Self.form],
                body: "grant_type=authorization_code&code=\(code)&redirect_uri=http%3A%2F%2Flocalhost%2Fcb&code_verifier=\(verifier)")
            let refresh1 = try #require(first.1["refresh_token"] as? String)
            // Parameters as query parameters work as well as a form body.
            let second = try await Self.request("\(tokenURL)?grant_type=refresh_token&refresh_token=\(refresh1)", method: .POST,
                headers: [Self.basic(h.configuration)])
            #expect(second.0 == 200)
            let refresh2 = try #require(second.1["refresh_token"] as? String)
            #expect(refresh2 != refresh1)
            let reuse = try await Self.request(tokenURL, method: .POST, headers: [Self.basic(h.configuration), Self.form],
                body: "grant_type=refresh_token&refresh_token=\(refresh1)")
            #expect(reuse.0 == 400)
            #expect(reuse.1["error"] as? String == "invalid_grant")
        }
    }

    @Test("REST rtms_app/status: 401 without or with an expired token, 400 bad body, 404 unknown engagement, 204 start")
    func restStatus() async throws {
        try await Harness.run({ $0.accessTokenLifetime = .milliseconds(300) }) { h in
            let engagement = await h.simulator.createEngagement()
            let url = "\(h.endpoints.apiBaseURL)/contact_center/\(engagement)/rtms_app/status"
            let start = "{\"action\":\"start\",\"settings\":{\"client_id\":\"\(h.configuration.clientID)\"}}"
            #expect(try await Self.request(url, method: .PUT, body: start).0 == 401)
            let expired = await h.simulator.mintAccessToken()
            try await Task.sleep(for: .milliseconds(400))
            #expect(try await Self.request(url, method: .PUT, headers: [("authorization", "Bearer \(expired)")], body: start).0 == 401)
            // Tokens live 300 ms here (to test expiry), so each request below gets a fresh one: a loaded
            // machine can take longer than that between two requests.
            func auth() async -> (String, String) { ("authorization", "Bearer \(await h.simulator.mintAccessToken())") }
            #expect(try await Self.request(url, method: .PUT, headers: [await auth()], body: "{\"action\":\"jump\"}").0 == 400)
            #expect(try await Self.request(url, method: .PUT, headers: [await auth()], body: "not json").0 == 400)
            #expect(try await Self.request("\(h.endpoints.apiBaseURL)/contact_center/nope/rtms_app/status", method: .PUT, headers: [await auth()], body: start).0 == 404)
            #expect(try await Self.request(url, method: .PUT, headers: [await auth()], body: start).0 == 204)
            let started = try await h.webhook("contact_center.voice_rtms_started")
            #expect(started.signatureValid)
            #expect(started.payload["engagement_id"] as? String == engagement)
            #expect((started.payload["server_urls"] as? String) == h.endpoints.signalingURLs[0])
            #expect(try await h.webhook("contact_center.engagement_started").signatureValid)
            // Pause before any client: allowed; resume; stop.
            #expect(try await Self.request(url, method: .PUT, headers: [await auth()], body: "{\"action\":\"pause\"}").0 == 204)
            #expect(try await Self.request(url, method: .PUT, headers: [await auth()], body: "{\"action\":\"resume\"}").0 == 204)
            #expect(try await Self.request(url, method: .PUT, headers: [await auth()], body: "{\"action\":\"stop\"}").0 == 204)
            let stopped = try await h.webhook("contact_center.voice_rtms_stopped")
            #expect(stopped.payload["stop_reason"] as? Int == 25)
            #expect(try await Self.request(url, method: .PUT, headers: [await auth()], body: "{\"action\":\"stop\"}").0 == 400)
        }
    }

    @Test("url_validation is signed and checks the encrypted token")
    func urlValidation() async throws {
        try await Harness.run { h in
            #expect(await h.simulator.validateWebhookEndpoint())
            let validation = try await h.webhook("endpoint.url_validation")
            #expect(validation.signatureValid)
        }
    }
}

/// PKCE S256 as a client computes it.
enum PKCE {
    static func challenge(_ verifier: String) -> String {
        Data(SHA256.hash(data: Data(verifier.utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
