import RelayCore
import Testing

/// `CallRole`: the one rule for who is who on a call, which the recordings API answers with and the agent page
/// mirrors.
@Suite("Call role")
struct CallRoleTests {
    @Test("participant_mode names a role: agent, caller or consumer; anything else names none")
    func modes() {
        #expect(CallRole(participantMode: "agent") == .agent)
        #expect(CallRole(participantMode: "caller") == .customer)
        #expect(CallRole(participantMode: "consumer") == .customer)
        for other in ["monitor", "Agent", "", "caller "] { #expect(CallRole(participantMode: other) == nil, "\(other)") }
        #expect(CallRole(participantMode: nil) == nil)
    }

    @Test("the channel's role wins over names; then an agent's name; then the caller's; else nil")
    func order() {
        let roles: [String: CallRole] = ["0": .agent, "1": .customer]
        func role(_ channel: String?, _ name: String?) -> CallRole? {
            CallRole.of(channel: channel, name: name, channelRoles: roles, agents: [CallParty(userID: "u1", name: "Ada")], caller: CallParty(name: "Carl"))
        }
        // Zoom said channel 1 is the customer, even under a name that is also an agent's (a transfer, say).
        #expect(role("1", "Ada") == .customer)
        #expect(role("0", "Carl") == .agent)
        #expect(role("2", "Ada") == .agent)
        #expect(role(nil, "Carl") == .customer)
        #expect(role("2", "Sam") == nil)
        #expect(role("2", nil) == nil)
        #expect(role("2", "") == nil)
        #expect(CallRole.of(channel: "2", name: "", channelRoles: [:], agents: [CallParty(name: "")], caller: CallParty(name: "")) == nil)
        // An agent the webhook named by id only does not match a party without a name.
        #expect(CallRole.of(channel: "2", name: nil, channelRoles: [:], agents: [CallParty(userID: "u1")], caller: nil) == nil)
    }
}
