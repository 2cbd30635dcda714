import BuiltInSinks
import Foundation
import RelayCore
import RelayTesting
import Testing
import ZoomSimulator

/// Security review finding #1 (any session token could list, watch and stop every engagement of every account)
/// and #9 (a token in the URL authorized changes), tried as a rogue agent would: real relay, real HTTP, the
/// simulator as Zoom.
@Suite("Access model: agents reach only their own calls, supervisors their account, nothing crosses accounts")
struct AccessModelTests {
    static let operatorToken = "operator-token-for-tests"
    static let server = "{host: 127.0.0.1, port: 0, access_token: \(operatorToken)}"
    static let access = "access: {supervisors: [supervisor-1]}"
    static let webSink = "  web:\n    type: web"

    /// A second account's engagement, with the same agent id as one of ours: account scoping must hold even
    /// when user ids collide.
    static func foreignEngagement(_ harness: RelayHarness, id: String, agent: String) async throws {
        let body = #"{"event":"contact_center.engagement_started","event_ts":\#(Int64(Date().timeIntervalSince1970 * 1000)),"payload":{"account_id":"otherAccount","object":{"engagement_id":"\#(id)","channel":"voice","agents":[{"user_id":"\#(agent)"}]}}}"#
        let (status, _) = try await harness.signedPost(body: body)
        #expect(status == 200)
    }

    static func run(webhooksNameAgents: Bool = true, server: String = server, webSink: String = webSink, _ body: @Sendable @escaping (RelayHarness) async throws -> Void) async throws {
        try await RelayHarness.run(sinks: BuiltInSinks.registry, sinksYAML: webSink, server: server, extraYAML: Self.access,
                                   adjustSimulator: { $0.webhooksNameAgents = webhooksNameAgents }) { harness in
            // The operator connects the account, as an admin would.
            #expect(try await SecurityClient(harness, authorization: "Bearer \(operatorToken)").connectZoom() == "/?auth=success")
            try await body(harness)
        }
    }

    @Test("security #1: an agent lists, watches and controls only their own engagement; another agent's is 404")
    func agentsSeeOnlyTheirOwn() async throws {
        try await Self.run { harness in
            let mine = await harness.simulator.createEngagement(agent: "agent-A")
            let theirs = await harness.simulator.createEngagement(agent: "agent-B")
            try await Self.foreignEngagement(harness, id: "foreign-1", agent: "agent-A")
            try await harness.waitFor(.engagementStarted, count: 3)
            try await harness.simulator.startStream(engagementID: theirs)
            try await harness.waitFor(.streamConnected)

            let agentA = try await SecurityClient.agent(harness, uid: "agent-A", account: "simAccount01")
            #expect(try await agentA.engagements() == [mine])
            let active = try await agentA.send("/api/engagement/active")
            #expect(active.body.contains(mine) && !active.body.contains(theirs), "the newest active engagement is someone else's: \(active.body)")

            // Watching: the firehose is refused; someone else's engagement and the other account's are not found.
            #expect(try await agentA.events("", window: .milliseconds(200)).status == 403)
            #expect(try await agentA.events("?engagement=\(theirs)", window: .milliseconds(200)).status == 404)
            #expect(try await agentA.events("?engagement=foreign-1", window: .milliseconds(200)).status == 404)
            let own = try await agentA.events("?engagement=\(mine)")
            #expect(own.status == 200)
            #expect(own.text.contains(mine) && !own.text.contains(theirs))

            // Steering: stopping the other agent's recording is refused, and Zoom is never asked.
            let stop = try await agentA.control(theirs, "stop")
            #expect(stop.status == 404, "\(stop.body)")
            #expect(harness.events(.streamRequested).isEmpty)
            #expect(harness.events(.streamStopped).isEmpty)

            // The operator sees all three, of both accounts.
            let operatorClient = SecurityClient(harness, authorization: "Bearer \(Self.operatorToken)")
            #expect(Set(try await operatorClient.engagements()) == [mine, theirs, "foreign-1"])
        }
    }

    @Test("security #1: the same user id in another account sees only that account's engagement")
    func accountsNeverCross() async throws {
        try await Self.run { harness in
            let ours = await harness.simulator.createEngagement(agent: "agent-A")
            try await Self.foreignEngagement(harness, id: "foreign-1", agent: "agent-A")
            try await harness.waitFor(.engagementStarted, count: 2)
            let foreignAgent = try await SecurityClient.agent(harness, uid: "agent-A", account: "otherAccount")
            #expect(try await foreignAgent.engagements() == ["foreign-1"])
            #expect(try await foreignAgent.events("?engagement=\(ours)", window: .milliseconds(200)).status == 404)
            #expect(try await foreignAgent.control(ours, "start").status == 404)
        }
    }

    @Test("security #1: a supervisor sees every engagement of their account (list and firehose), read-only")
    func supervisors() async throws {
        try await Self.run { harness in
            let first = await harness.simulator.createEngagement(agent: "agent-A")
            let second = await harness.simulator.createEngagement(agent: "agent-B")
            try await Self.foreignEngagement(harness, id: "foreign-1", agent: "supervisor-1")
            try await harness.waitFor(.engagementStarted, count: 3)
            let supervisor = try await SecurityClient.agent(harness, uid: "supervisor-1", account: "simAccount01")
            #expect(Set(try await supervisor.engagements()) == [first, second])
            let firehose = try await supervisor.events("")
            #expect(firehose.status == 200)
            #expect(firehose.text.contains(first) && firehose.text.contains(second))
            #expect(!firehose.text.contains("foreign-1"), "the firehose leaked another account's engagement")
            let control = try await supervisor.control(first, "start")
            #expect(control.status == 403, "\(control.body)")
            #expect(control.body.contains("supervisors_control"))
        }
    }

    @Test("security #1: when the webhook names no agent, Zoom's REST API is asked once and the answer decides")
    func restBinding() async throws {
        try await Self.run(webhooksNameAgents: false) { harness in
            let engagement = await harness.simulator.createEngagement(agent: "agent-C")
            try await harness.waitFor(.engagementStarted)
            let agentC = try await SecurityClient.agent(harness, uid: "agent-C", account: "simAccount01")
            let agentD = try await SecurityClient.agent(harness, uid: "agent-D", account: "simAccount01")
            // Unbound: nobody but the operator lists it yet.
            #expect(try await agentC.engagements().isEmpty)
            #expect(try await agentD.events("?engagement=\(engagement)", window: .milliseconds(200)).status == 404)
            // Zoom says agent-C is on it: allowed, and remembered for the list.
            #expect(try await agentC.events("?engagement=\(engagement)", window: .milliseconds(200)).status == 200)
            #expect(try await agentC.engagements() == [engagement])
            #expect(try await agentD.engagements().isEmpty)
            #expect(try await agentC.control(engagement, "start").status == 200)
            try await harness.waitFor(.streamConnected)
        }
    }

    @Test("security #9: a token in the URL authorizes the event stream only, never a change")
    func tokenInURL() async throws {
        try await Self.run { harness in
            let engagement = await harness.simulator.createEngagement(agent: "agent-A")
            try await harness.waitFor(.engagementStarted)
            let agentA = try await SecurityClient.agent(harness, uid: "agent-A", account: "simAccount01")
            let token = try #require(agentA.authorization?.dropFirst("Bearer ".count))
            let anonymous = SecurityClient(harness)
            #expect(try await anonymous.control(engagement, "start", query: "?access_token=\(token)").status == 401)
            #expect(try await anonymous.send("/api/engagements?access_token=\(token)").status == 401)
            #expect(try await anonymous.events("?engagement=\(engagement)&access_token=\(token)", window: .milliseconds(200)).status == 200)
            #expect(harness.events(.streamRequested).isEmpty)
        }
    }

    @Test("security #12: one caller cannot open more event streams than its cap; others still can, and closed ones free their slot")
    func eventStreamCaps() async throws {
        let capped = "{host: 127.0.0.1, port: 0, access_token: \(Self.operatorToken), max_event_streams_per_caller: 2, max_event_streams: 3}"
        // A closed tab's slot is freed when the next write to it fails: the heartbeat, every second here.
        try await Self.run(server: capped, webSink: Self.webSink + "\n    heartbeat_seconds: 1") { harness in
            let engagement = await harness.simulator.createEngagement(agent: "agent-A")
            try await harness.waitFor(.engagementStarted)
            let agentA = try await SecurityClient.agent(harness, uid: "agent-A", account: "simAccount01")
            let operatorClient = SecurityClient(harness, authorization: "Bearer \(Self.operatorToken)")
            // Two streams held open by agent-A.
            async let first = agentA.events("?engagement=\(engagement)", window: .seconds(4))
            async let second = agentA.events("?engagement=\(engagement)", window: .seconds(4))
            try await Task.sleep(for: .seconds(1.5))
            let third = try await agentA.events("?engagement=\(engagement)", window: .milliseconds(200))
            #expect(third.status == 429)
            #expect(third.text.contains("too many open event streams"))
            // Another caller still gets one (the total cap is 3), but not a second.
            #expect(try await operatorClient.events("", window: .milliseconds(200)).status == 200)
            #expect(try await [first.status, second.status] == [200, 200])
            // All closed: agent-A may open one again.
            try await waitUntil(timeout: .seconds(10), "slots freed") {
                try await agentA.events("?engagement=\(engagement)", window: .milliseconds(100)).status == 200
            }
        }
    }
}
