import BuiltInSinks
import Foundation
import RelayCore
import RelayTesting
import Testing
import ZoomSimulator

/// Security review finding #2 (anyone who could reach the relay could connect their own Zoom account, and the
/// first account alphabetically answered for everyone) and #15 (error text reflected to the browser).
@Suite("Connect to Zoom belongs to the operator or an admin of the account")
struct ConnectZoomTests {
    static let operatorToken = "operator-token-for-tests"
    static let server = "{host: 127.0.0.1, port: 0, access_token: \(operatorToken)}"

    static func run(authorizer: SimulatorConfiguration.SimulatedUser, _ body: @Sendable @escaping (RelayHarness) async throws -> Void) async throws {
        try await RelayHarness.run(server: server, adjustSimulator: { $0.authorizingUser = authorizer }, body)
    }

    @Test("security #2: an anonymous client can start no login, and a forged callback changes nothing")
    func anonymousChangesNothing() async throws {
        try await Self.run(authorizer: .init(id: "admin-1", roleName: "Admin")) { harness in
            let anonymous = SecurityClient(harness)
            #expect(try await anonymous.send("/api/auth/login", method: .POST, json: "{}").status == 401)
            #expect(try await anonymous.send("/api/auth/login").status != 302, "a GET must not start a login")
            #expect(try await anonymous.send("/api/auth/status").status == 401)
            // A callback with a state the relay never issued (or one signed with another key) is refused with a
            // fixed code; the attacker's text is not reflected.
            for query in ["code=abc&state=forged", "code=abc&state=eyJ1aWQiOiIifQ.AAAA~xyz", "error=Call%20IT%20at%20555"] {
                let back = try await anonymous.send("/api/auth/callback?\(query)")
                #expect(back.status == 302)
                #expect(back.location == "/?auth=error&reason=expired" || back.location == "/?auth=error&reason=declined", "\(back.location ?? "")")
            }
            #expect(try await harness.relay.zoom?.store.accounts() == [])
        }
    }

    @Test("security #2: an agent who is not an admin cannot connect the account, even by completing the flow")
    func memberRefused() async throws {
        try await Self.run(authorizer: .init(id: "agent-A", roleName: "Member")) { harness in
            let agent = try await SecurityClient.agent(harness, uid: "agent-A", account: "simAccount01")
            #expect(try await agent.connectZoom() == "/?auth=error&reason=not_admin")
            #expect(try await harness.relay.zoom?.store.accounts() == [])
            let status = try await agent.send("/api/auth/status")
            #expect(status.body.contains(#""authenticated":false"#) && status.body.contains(#""account":"simAccount01""#))
        }
    }

    @Test("security #2: an admin connects their own account only; a session of another account cannot use them")
    func adminConnectsOwnAccount() async throws {
        try await Self.run(authorizer: .init(id: "admin-1", roleName: "Admin")) { harness in
            // The admin of simAccount01 consents, but the login was started by a session of another account.
            let stranger = try await SecurityClient.agent(harness, uid: "admin-1", account: "otherAccount")
            #expect(try await stranger.connectZoom() == "/?auth=error&reason=not_admin")
            #expect(try await harness.relay.zoom?.store.accounts() == [])

            let admin = try await SecurityClient.agent(harness, uid: "admin-1", account: "simAccount01")
            #expect(try await admin.connectZoom() == "/?auth=success")
            #expect(try await harness.relay.zoom?.store.accounts() == ["simAccount01"])
            // Status shows each caller only their own account; the operator sees the list.
            #expect(try await admin.send("/api/auth/status").body.contains(#""authenticated":true"#))
            let foreign = try await stranger.send("/api/auth/status")
            #expect(foreign.body.contains(#""authenticated":false"#) && !foreign.body.contains("simAccount01"))
            let operatorStatus = try await SecurityClient(harness, authorization: "Bearer \(Self.operatorToken)").send("/api/auth/status")
            #expect(operatorStatus.body.contains(#""accounts":[{"account":"simAccount01","authenticated":true"#))
        }
    }

    @Test("security #2: control uses the engagement's own account; an engagement of an unconnected account fails clearly")
    func noFirstAccountFallback() async throws {
        try await Self.run(authorizer: .init(id: "admin-1", roleName: "Admin")) { harness in
            let operatorClient = SecurityClient(harness, authorization: "Bearer \(Self.operatorToken)")
            #expect(try await operatorClient.connectZoom() == "/?auth=success")
            let body = #"{"event":"contact_center.engagement_started","event_ts":\#(Int64(Date().timeIntervalSince1970 * 1000)),"payload":{"account_id":"otherAccount","object":{"engagement_id":"foreign-1","agents":[{"user_id":"x"}]}}}"#
            #expect(try await harness.signedPost(body: body).0 == 200)
            try await harness.waitFor(.engagementStarted)
            // simAccount01's token must not be used for another account's engagement.
            let reply = try await operatorClient.control("foreign-1", "start")
            #expect(reply.status == 401, "\(reply.body)")
            #expect(reply.body.contains("Connect to Zoom"))
            #expect(harness.events(.streamRequested).isEmpty)
        }
    }
}
