import NIOCore
import RelayCore
import Testing
@testable import RTMSIngest

@Suite("Engagement registry")
struct EngagementRegistryTests {
    func event(_ kind: StreamEvent.Kind, _ engagement: String, _ stream: String? = nil, at: Int64) -> StreamEvent {
        StreamEvent(timeMillis: at, engagementID: engagement, streamID: stream, kind: kind)
    }

    @Test("engagements are listed newest first with each stream's state; an engagement keeps several streams")
    func snapshot() async {
        let registry = EngagementRegistry()
        await registry.record(event(.engagementStarted(payload: .null), "E1", at: 1_000))
        await registry.record(event(.engagementStarted(payload: .null), "E2", at: 2_000))
        await registry.record(event(.streamStarted(serverHost: "rtms.zoom.us"), "E1", "S1", at: 3_000))
        await registry.record(event(.streamConnected(MediaParameters()), "E1", "S1", at: 3_100))
        await registry.record(event(.streamStopped(StopReason(code: 25, name: "X")), "E1", "S1", at: 4_000))
        await registry.record(event(.streamStarted(serverHost: "rtms.zoom.us"), "E1", "S2", at: 5_000))
        await registry.record(event(.streamInterrupted(reason: "media", attempt: 2), "E1", "S2", at: 5_100))
        let snapshot = await registry.snapshot()
        #expect(snapshot.map(\.engagementId) == ["E2", "E1"])
        #expect(snapshot[1].streams.map(\.streamId) == ["S2", "S1"])
        #expect(snapshot[1].streams.map(\.state) == [.interrupted, .stopped])
        #expect(snapshot[1].streams[0].attempt == 2)
    }

    @Test("/api/engagement/active is the active engagement started last, or isActive false with a null id")
    func active() async throws {
        let registry = EngagementRegistry()
        #expect(await registry.active() == ActiveEngagement(isActive: false, engagementId: nil, startedAt: nil))
        let json = String(decoding: try JSONEncoderForTests.encode(await registry.active()), as: UTF8.self)
        #expect(json == #"{"engagementId":null,"isActive":false}"#)
        await registry.record(event(.engagementStarted(payload: .null), "E1", at: 1_000))
        await registry.record(event(.engagementStarted(payload: .null), "E2", at: 2_000))
        #expect(await registry.active() == ActiveEngagement(isActive: true, engagementId: "E2", startedAt: "1970-01-01T00:00:02.000Z"))
        await registry.record(event(.engagementEnded(payload: .null), "E2", at: 3_000))
        #expect(await registry.active().engagementId == "E1")
    }

    @Test("pause and resume are reflected in the stream state")
    func paused() async {
        let registry = EngagementRegistry()
        await registry.record(event(.streamStarted(serverHost: "h"), "E", "S", at: 1))
        await registry.record(event(.streamConnected(MediaParameters()), "E", "S", at: 2))
        await registry.record(event(.streamPaused, "E", "S", at: 3))
        #expect(await registry.streamState("S") == .paused)
        await registry.record(event(.streamUnpaused, "E", "S", at: 4))
        #expect(await registry.streamState("S") == .streaming)
        #expect(await registry.liveStreamCount() == 1)
    }

    @Test("call details: direction and agents from the webhook, caller, queue and roles from participant events; a later event without a field keeps it; wire ids are capped")
    func callDetails() async throws {
        let registry = EngagementRegistry()
        let started: JSONValue = ["account_id": "A", "object": ["direction": "inbound", "agents": [["user_id": "u1", "display_name": "Alex Agent"]]]]
        await registry.record(event(.engagementStarted(payload: started), "E", at: 1))
        let caller: JSONValue = ["channel_id": "c1", "participant_mode": "caller", "display_name": "Casey", "phone_number": "+15550000002",
                                 "queue_name": "Billing"]
        await registry.record(event(.participant(ParticipantEvent(eventType: 8, eventName: "CONSUMER_ANSWERED", participant: caller)), "E", "S", at: 2))
        await registry.record(event(.participant(ParticipantEvent(eventType: 10, eventName: "USER_ANSWERED",
                                                                  participant: ["channel_id": "c0", "participant_mode": "agent"])), "E", "S", at: 3))
        // A transfer event naming neither queue nor number must not erase them.
        await registry.record(event(.participant(ParticipantEvent(eventType: 18, eventName: "TRANSFER_INITIATED",
                                                                  participant: ["channel_id": "c1", "participant_mode": "caller"])), "E", "S", at: 4))
        // Invented channel ids beyond the cap are not remembered.
        for index in 0..<50 {
            await registry.record(event(.participant(ParticipantEvent(eventType: 26, eventName: "CONFERENCE_PARTICIPANT_INVITED",
                                                                      participant: ["channel_id": .string("x\(index)"), "participant_mode": "agent"])), "E", "S", at: 5))
        }
        // Participant events of an engagement no webhook named create nothing.
        await registry.record(event(.participant(ParticipantEvent(eventType: 8, eventName: "CONSUMER_ANSWERED", participant: caller)), "ghost", "S9", at: 6))

        let snapshot = await registry.snapshot()
        #expect(snapshot.map(\.engagementId) == ["E"])
        let call = snapshot[0].call
        #expect(call.direction == "inbound")
        #expect(call.agents == [CallDetails.Party(userID: "u1", name: "Alex Agent")])
        #expect(call.caller == CallDetails.Party(userID: nil, name: "Casey", phoneNumber: "+15550000002"))
        #expect(call.queue == "Billing")
        #expect(call.roles["c0"] == .agent && call.roles["c1"] == .customer)
        #expect(call.roles.count == ChannelAdmission.defaultLimit)
        let json = String(decoding: try JSONEncoderForTests.encode(call), as: UTF8.self)
        #expect(json.contains(#""caller":{"name":"Casey","phoneNumber":"+15550000002"}"#))
        #expect(json.contains(#""agents":[{"name":"Alex Agent","userId":"u1"}]"#))
    }

}

import Foundation
enum JSONEncoderForTests {
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try encoder.encode(value)
    }
}
