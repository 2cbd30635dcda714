import AsyncHTTPClient
import Foundation
import GRDB
import Logging
import NIOCore
import NIOHTTP1
import RelayCore
import RelayServer
import RelayTesting
import Testing
import ZoomAPI
import ZoomSimulator

/// OAuth, the token store and RTMS control, end to end: the real relay against the simulator's OAuth, REST,
/// webhooks and RTMS servers (docs/security.md, "Connecting a Zoom account"; docs/zoom-rtms.md, "REST: RTMS control").
@Suite("OAuth, token refresh and RTMS control against the simulator")
struct ZoomControlTests {
    /// A client that shows redirects instead of following them.
    static let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    struct Reply {
        var status: Int
        var location: String?
        var body: String
        /// For a login: the callback's query (Zoom's `code` and the relay's `state`) and the PKCE challenge.
        var loginSecrets: [String] = []
    }

    static func send(_ url: String, method: HTTPMethod = .GET, json: String? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let json {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await client.execute(request, timeout: .seconds(20))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: Int(response.status.code), location: response.headers.first(name: "location"), body: String(buffer: body))
    }

    /// Runs the browser's part of the OAuth flow: login → Zoom authorize → callback.
    static func connect(_ harness: RelayHarness, replay: Bool = false) async throws -> Reply {
        let base = "http://127.0.0.1:\(harness.relayPort)"
        let authorize = try await OAuthLogin.start(base: base, client: client)
        let zoom = try await send(authorize)
        #expect(zoom.status == 302)
        let callback = try #require(zoom.location)
        #expect(callback.hasPrefix("http://localhost:3001/api/auth/callback?") || callback.contains("/api/auth/callback?"))
        // The redirect URI is public_url-based; send it to the relay's real port.
        let query = try #require(callback.split(separator: "?", maxSplits: 1).last)
        var first = try await send(base + "/api/auth/callback?" + query)
        let items = (URLComponents(string: authorize)?.queryItems ?? []) + (URLComponents(string: callback)?.queryItems ?? [])
        first.loginSecrets = items.filter { ["code", "state", "code_challenge"].contains($0.name) }.compactMap(\.value)
        #expect(first.loginSecrets.count == 4, "state, challenge, code and state again")
        return replay ? try await send(base + "/api/auth/callback?" + query) : first
    }

    static func control(_ harness: RelayHarness, _ engagement: String, _ action: String) async throws -> Reply {
        try await send("http://127.0.0.1:\(harness.relayPort)/api/zoom/rtms/control", method: .POST, json: #"{"engagementId":"\#(engagement)","action":"\#(action)"}"#)
    }

    @Test("the whole OAuth flow stores tokens, and status reports the account connected")
    func oauthFlow() async throws {
        try await RelayHarness.run { harness in
            let base = "http://127.0.0.1:\(harness.relayPort)"
            #expect(try await Self.send(base + "/api/auth/status").body.contains(#""authenticated":false"#))
            let replayed = try await Self.connect(harness, replay: true)
            // The state (and Zoom's code) is single-use: replaying the callback fails and changes nothing.
            #expect(replayed.status == 302)
            #expect(replayed.location?.hasPrefix("/?auth=error&reason=") == true)
            let status = try await Self.send(base + "/api/auth/status")
            #expect(status.body.contains(#""authenticated":true"#))
            #expect(status.body.contains(#""expires_at":"#))
            let zoom = try #require(harness.relay.zoom)
            // Stored under the account Zoom names for the token (`/users/me`), never a default.
            #expect(try await zoom.store.accounts() == ["simAccount01"])
            #expect(try await zoom.store.load(account: "simAccount01")?.isAuthenticated == true)
            let done = try await Self.connect(harness)
            #expect(done.location == "/?auth=success")
        }
    }

    @Test("the control API drives start, pause, resume and stop of a simulated engagement end to end")
    func controlEndToEnd() async throws {
        try await RelayHarness.run { harness in
            _ = try await Self.connect(harness)
            let engagement = await harness.simulator.createEngagement()
            try await harness.waitFor(.engagementStarted)
            let start = try await Self.control(harness, engagement, "start")
            #expect(start.status == 200, "\(start.body)")
            #expect(start.body == #"{"action":"start","engagementId":"\#(engagement)","ok":true}"#)
            try await harness.waitFor(.streamConnected)
            let stream = try #require(harness.events(.streamConnected).first?.streamID)
            try await harness.waitForAudio(stream: stream, perChannel: 10)
            #expect(try await Self.control(harness, engagement, "pause").status == 200)
            try await harness.waitFor(.streamPaused)
            #expect(try await Self.control(harness, engagement, "resume").status == 200)
            try await harness.waitFor(.streamUnpaused)
            #expect(try await Self.control(harness, engagement, "stop").status == 200)
            try await harness.waitFor(.streamStopped)
            let requested = harness.events(.streamRequested).compactMap { event -> String? in
                if case .streamRequested(let action, let by) = event.kind, event.engagementID == engagement { return "\(action.rawValue) by \(by)" }
                return nil
            }
            #expect(requested == ["start by anonymous", "pause by anonymous", "resume by anonymous", "stop by anonymous"])
            // Zoom's refusals come back in words with a fitting status.
            let again = try await Self.control(harness, engagement, "resume")
            #expect(again.status == 400)
            #expect(again.body.contains("Zoom answered 400"))
            // The relay acts on an engagement only with its own account's token, so one it never heard of is 404.
            let unknown = try await Self.control(harness, "no-such-engagement", "start")
            #expect(unknown.status == 404)
            #expect(unknown.body.contains("no engagement webhook has named it"))
        }
    }

    @Test("an expired token is refreshed before use, and five concurrent control calls cause exactly one refresh")
    func singleRefresh() async throws {
        try await RelayHarness.run { harness in
            _ = try await Self.connect(harness)
            let zoom = try #require(harness.relay.zoom)
            let stored = try #require(try await zoom.store.load(account: "simAccount01")?.tokens)
            // The access token has expired by the clock (Zoom would refuse it too).
            let before = OAuthTokens(accessToken: stored.accessToken, refreshToken: stored.refreshToken, expiresAtMillis: EventClock.nowMillis() - 1_000)
            try await zoom.store.save(account: "simAccount01", tokens: before)
            #expect(await zoom.refresher.refreshCount == 0)
            var engagements: [String] = []
            for _ in 0..<5 { engagements.append(await harness.simulator.createEngagement()) }
            try await harness.waitFor(.engagementStarted, count: 5)
            let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                for engagement in engagements { group.addTask { try await Self.control(harness, engagement, "start") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.map(\.status) == [200, 200, 200, 200, 200], "\(replies.map(\.body))")
            #expect(await zoom.refresher.refreshCount == 1)
            let after = try #require(try await zoom.store.load(account: "simAccount01")?.tokens)
            #expect(after.accessToken != before.accessToken)
            #expect(after.refreshToken != before.refreshToken)
            #expect(after.expiresAtMillis > EventClock.nowMillis() + 3_000_000)
            try await harness.waitFor(.streamConnected, count: 5)
            // The fresh token is used as it is: no further refresh.
            #expect(try await Self.control(harness, engagements[0], "pause").status == 200)
            #expect(await zoom.refresher.refreshCount == 1)
        }
    }

    @Test("a 401 from Zoom causes one refresh and a retry; a refused refresh marks the account unauthenticated")
    func refreshOn401AndFailure() async throws {
        try await RelayHarness.run { harness in
            _ = try await Self.connect(harness)
            let zoom = try #require(harness.relay.zoom)
            let stored = try #require(try await zoom.store.load(account: "simAccount01")?.tokens)
            // Zoom no longer accepts the access token, though it has not expired by the clock.
            try await zoom.store.save(account: "simAccount01", tokens: OAuthTokens(accessToken: "revoked", refreshToken: stored.refreshToken, expiresAtMillis: stored.expiresAtMillis))
            let engagement = await harness.simulator.createEngagement()
            try await harness.waitFor(.engagementStarted)
            let start = try await Self.control(harness, engagement, "start")
            #expect(start.status == 200, "\(start.body)")
            #expect(await zoom.refresher.refreshCount == 1)
            // Now the refresh token is dead too (rotated away): the next 401 cannot be healed.
            try await zoom.store.save(account: "simAccount01", tokens: OAuthTokens(accessToken: "revoked-again", refreshToken: stored.refreshToken, expiresAtMillis: stored.expiresAtMillis))
            let stop = try await Self.control(harness, engagement, "stop")
            #expect(stop.status == 401)
            #expect(stop.body.contains("connect to Zoom again"))
            let status = try await Self.send("http://127.0.0.1:\(harness.relayPort)/api/auth/status")
            #expect(status.body.contains(#""authenticated":false"#))
            #expect(status.body.contains("refused the token refresh"))
        }
    }

    @Test("no secret or token ever appears in a log line or an error body")
    func noSecretsInLogs() async throws {
        // Tokens live 60 s, inside the refresher's 5-minute margin, so the flow includes a refresh.
        try await RelayHarness.run(accessTokenLifetime: .seconds(60)) { harness in
            let login = try await Self.connect(harness)
            let zoom = try #require(harness.relay.zoom)
            let first = try #require(try await zoom.store.load(account: "simAccount01")?.tokens)
            let engagement = await harness.simulator.createEngagement()
            try await harness.waitFor(.engagementStarted)
            _ = try await Self.control(harness, engagement, "start")
            try await harness.waitFor(.streamConnected)
            let second = try #require(try await zoom.store.load(account: "simAccount01")?.tokens)
            let badReply = try await Self.control(harness, "missing", "start")
            _ = try await Self.control(harness, engagement, "stop")
            try await harness.waitFor(.streamStopped)
            // The 60 s tokens fall inside the refresh margin: the refresh path (and its logging) really ran.
            #expect(await zoom.refresher.refreshCount >= 1)
            #expect(first.refreshToken != second.refreshToken)
            let secrets = ["SIMCLIENTSECRET", RelayHarness.webhookSecret, first.accessToken, first.refreshToken, second.accessToken, second.refreshToken]
                + login.loginSecrets
            let logs = harness.logs.all
            #expect(logs.count > 20)
            for secret in secrets {
                #expect(harness.logs.lines(containing: secret).isEmpty, "a log line contains a secret: \(harness.logs.lines(containing: secret).first ?? "")")
                #expect(!badReply.body.contains(secret))
            }
        }
    }

    @Test("security #13: a refusal that is not about the grant (the app's own credentials, 401) keeps the refresh token")
    func refreshTokenSurvivesOtherErrors() async throws {
        // 60 s tokens: inside the 5-minute margin, so every access-token read refreshes.
        try await RelayHarness.run(accessTokenLifetime: .seconds(60)) { harness in
            _ = try await Self.connect(harness)
            let zoom = try #require(harness.relay.zoom)
            let stored = try #require(try await zoom.store.load(account: "simAccount01")?.tokens)
            // The same store, refreshed with a wrong client secret (a config mix-up): Zoom answers 401 invalid_client.
            let misconfigured = ZoomOAuthClient(oauthURL: harness.relay.configuration.zoom.oauthURL, clientID: "SIMCLIENTID", clientSecret: Secret("wrong"))
            let refresher = TokenRefresher(store: zoom.store, oauth: misconfigured, logger: Logger(label: "test"))
            await #expect(throws: ZoomAPIError.self) { _ = try await refresher.accessToken(account: "simAccount01") }
            let after = try await zoom.store.load(account: "simAccount01")
            #expect(after?.tokens?.refreshToken == stored.refreshToken, "the refresh token was wiped by a 401 for the client credentials")
            #expect(after?.problem == nil)
            // Once the secret is right again, the kept refresh token still works: no admin has to reconnect.
            _ = try await zoom.refresher.accessToken(account: "simAccount01")
            #expect(await zoom.refresher.refreshCount == 1)
        }
    }

    @Test("security #13: a rotated refresh token the store cannot save is kept, used, reported on /health and saved once the store recovers")
    func unsavedRotatedRefreshToken() async throws {
        // 60 s tokens: inside the 5-minute margin, so every access-token read refreshes (and rotates).
        try await RelayHarness.run(accessTokenLifetime: .seconds(60)) { harness in
            _ = try await Self.connect(harness)
            let zoom = try #require(harness.relay.zoom)
            let health = "http://127.0.0.1:\(harness.relayPort)/health"
            let connected = try await Self.send(health)
            #expect(connected.status == 200)
            #expect(connected.body.contains(#""token":"ok: 1 account connected""#), "\(connected.body)")
            let before = try #require(try await zoom.store.load(account: "simAccount01")?.tokens)
            // Another process holds the token database's write lock (a backup tool, say): the store's writes
            // fail after its 5 s busy timeout, its reads still work (WAL).
            var configuration = Configuration()
            configuration.allowsUnsafeTransactions = true
            let blocker = try DatabaseQueue(path: harness.relay.configuration.tokenStore.path, configuration: configuration)
            try await blocker.writeWithoutTransaction { try $0.execute(sql: "BEGIN EXCLUSIVE") }
            // The refresh succeeds at Zoom and rotates the refresh token; the save fails. The call still gets
            // a token, and the new refresh token is not lost.
            let access = try await zoom.refresher.accessToken(account: "simAccount01")
            #expect(access != before.accessToken)
            #expect(await zoom.refresher.accountsWithUnsavedTokens == ["simAccount01"])
            #expect(try await zoom.store.load(account: "simAccount01")?.tokens?.refreshToken == before.refreshToken, "the store took it after all")
            let degraded = try await Self.send(health)
            #expect(degraded.status == 503, "\(degraded.body)")
            #expect(degraded.body.contains(#""unsaved_refresh_tokens":1"#), "\(degraded.body)")
            #expect(!degraded.body.contains("simAccount01"), "an open route names an account")
            #expect(harness.logs.lines(containing: "could not save the rotated Zoom refresh token").count == 1)
            // The lock goes away: the next use saves what was kept, and /health is ok again.
            try await blocker.writeWithoutTransaction { try $0.execute(sql: "ROLLBACK") }
            _ = try await zoom.refresher.accessToken(account: "simAccount01")
            #expect(await zoom.refresher.accountsWithUnsavedTokens.isEmpty)
            #expect(try await Self.send(health).status == 200)
            let saved = try #require(try await zoom.store.load(account: "simAccount01")?.tokens)
            #expect(saved.refreshToken != before.refreshToken)
            // What was saved is the live token: Zoom (the simulator) still accepts it, after a restart too.
            let restarted = TokenRefresher(store: zoom.store, oauth: zoom.oauth, logger: Logger(label: "test"))
            _ = try await restarted.accessToken(account: "simAccount01")
            #expect(await restarted.refreshCount == 1)
        }
    }
}
