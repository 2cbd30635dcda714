import Foundation
import NIOHTTP1
import RelayCore
import RelayTesting
import Testing
import ZoomAPI
import ZoomSimulator

/// Zoom's REST API failing or hanging under the relay's control endpoint.
@Suite("Faults: Zoom REST answering 5xx or slowly", .serialized, .timeLimit(.minutes(3)))
struct ZoomRESTFaultTests {
    static func control(_ h: RelayHarness, _ engagement: String, _ action: String) async throws -> (status: Int, body: String) {
        try await http(h.baseURL + "/api/zoom/rtms/control", method: .POST, json: #"{"engagementId":"\#(engagement)","action":"\#(action)"}"#)
    }

    @Test("5xx from Zoom is a 502 naming Zoom's status; a hung Zoom is a 502 after the REST timeout while the relay keeps serving; both heal")
    func restFailures() async throws {
        try await RelayHarness.run { h in
            // An account connected: a token the simulator accepts, as after the OAuth flow.
            let zoom = try #require(h.relay.zoom)
            try await zoom.store.save(account: "simAccount01", tokens: OAuthTokens(
                accessToken: await h.simulator.mintAccessToken(), refreshToken: "unused",
                expiresAtMillis: Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000))
            let live = try await h.startCalls(1, framesEach: 10)
            let engagement = await h.simulator.createEngagement()
            try await h.waitFor(.engagementStarted, count: 2)

            for code in [500, 502, 503, 504] {
                h.simulator.setRESTFault(.status(code))
                let reply = try await Self.control(h, engagement, "start")
                #expect(reply.status == 502, "\(reply)")
                #expect(reply.body.contains("Zoom answered \(code)"), "\(reply.body)")
            }
            #expect(!h.logs.lines(containing: "RTMS control refused").isEmpty)

            h.simulator.setRESTFault(.delay(.seconds(30)))
            let started = ContinuousClock.now
            async let slow = Self.control(h, engagement, "start")
            // Meanwhile the relay answers everything else at once, and the live call streams on.
            try await Task.sleep(for: .seconds(1))
            let healthStart = ContinuousClock.now
            #expect(try await h.health().status == 200)
            #expect(ContinuousClock.now - healthStart < .seconds(2))
            let reply = try await slow
            let waited = ContinuousClock.now - started
            #expect(reply.status == 502, "\(reply)")
            #expect(reply.body.contains("Zoom could not be reached"), "\(reply.body)")
            // The REST client's timeout is 10 s: the caller is answered then, not when Zoom gets round to it.
            #expect(waited >= .seconds(9) && waited < .seconds(20), "answered after \(waited)")

            h.simulator.setRESTFault(nil)
            let healed = try await Self.control(h, engagement, "start")
            #expect(healed.status == 200, "\(healed)")
            try await h.waitFor(.streamConnected, count: 2)
            let problems = try await h.stopCallsAndCheckAudio(live)
            #expect(problems.isEmpty, "\(problems)")
        }
    }
}
