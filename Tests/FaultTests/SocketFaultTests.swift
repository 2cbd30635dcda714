import Foundation
import RelayCore
import RelayTesting
import Testing
import ZoomSimulator

/// Zoom's side misbehaving on the RTMS sockets: dropping them again and again, sending garbage, and going silent.
@Suite("Faults: the simulator dropping, garbling and stalling RTMS sockets", .serialized, .timeLimit(.minutes(3)))
struct SocketFaultTests {
    @Test("media and signaling dropped 12 times in a row (media, signaling, abrupt close in turn): every frame arrives exactly once, in order")
    func repeatedDrops() async throws {
        try await RelayHarness.run { h in
            let calls = try await h.startCalls(2, framesEach: 25)
            let (engagement, stream) = calls[0]
            let descriptors = openFileDescriptors()
            try #require(descriptors >= 0, "the descriptor count needs /proc/self/fd")
            for round in 0..<12 {
                let resumed = h.events(.streamResumed, stream: stream).count
                switch round % 3 {
                case 0: try await h.simulator.dropMedia(engagementID: engagement)
                case 1: try await h.simulator.dropSignaling(engagementID: engagement)
                default: try await h.simulator.abruptClose(engagementID: engagement)
                }
                try await h.waitFor(.streamResumed, stream: stream, count: resumed + 1)
                // A little audio on the new sockets before the next drop (sometimes none at all: drop at once).
                if round % 2 == 0 { try await h.waitForAudio(stream: stream, perChannel: (h.audio(stream: stream)["1"]?.count ?? 0) + 10) }
            }
            try await h.waitForAudio(stream: stream, perChannel: (h.audio(stream: stream)["1"]?.count ?? 0) + 25)
            // Every dropped socket was closed on both sides: relay and simulator share this process, so its
            // descriptor count is back where it was (slack 2 for a pooled webhook connection).
            try await waitUntil(timeout: .seconds(15), "descriptors back to \(descriptors) (now \(openFileDescriptors()))") {
                openFileDescriptors() <= descriptors + 2
            }
            let problems = try await h.stopCallsAndCheckAudio(calls)
            #expect(problems.isEmpty, "\(problems)")
            #expect(h.events(.streamFailed).isEmpty, "\(h.summary())")
            #expect(h.events(.streamResumed, stream: stream).count == 12)
            // The other call never noticed.
            #expect(h.events(.streamInterrupted, stream: calls[1].stream).isEmpty)
            let status = try #require(await h.simulator.streamStatus(streamID: stream))
            // One signaling connection per full reconnect (8 of the 12 rounds), one media connection per round.
            #expect(status.signalingConnectionsAccepted == 9)
            #expect(status.mediaConnectionsAccepted == 13)
        }
    }

    /// Frames no correct Zoom sends: not JSON, cut short, wrong types, unknown messages, binary junk, a huge frame.
    static let garbage: [RawFrame] = [
        .text("not json at all"),
        .text("{"),
        .text(#"{"msg_type": 14, "content": {"data": "%%%not-base64%%%", "timestamp": "soon"}}"#),
        .text(#"{"msg_type": 14, "content": null}"#),
        .text(#"{"msg_type": "fourteen"}"#),
        .text(#"{"msg_type": 9999, "whatever": [1, 2, 3]}"#),
        .text(#"{"msg_type": 6, "event": {"event_type": "x"}}"#),
        .text(#"{"msg_type": 8, "state": "sideways"}"#),
        .text("[]"),
        .text(""),
        .text(String(repeating: "[", count: 50_000)),
        .text(#"{"msg_type": 14, "content": {"data": ""# + String(repeating: "A", count: 400_000) + #"", "timestamp": 1}}"#),
        .binary([0xFF, 0xFE, 0x00, 0x01, 0x80]),
        .binary((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }),
    ]

    @Test("garbage frames on signaling and media are counted and logged, never crash or stop the stream, and lose no audio")
    func garbageFrames() async throws {
        try await RelayHarness.run { h in
            let calls = try await h.startCalls(1, framesEach: 25)
            let (engagement, stream) = calls[0]
            let malformedBefore = try await h.metric("rtms_relay_malformed_frames_total") ?? 0
            var sockets = 0
            for _ in 0..<5 {
                sockets += try await h.simulator.sendRawFrames(engagementID: engagement, Self.garbage)
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(sockets == 10)  // signaling and media, five times
            try await h.waitForAudio(stream: stream, perChannel: (h.audio(stream: stream)["1"]?.count ?? 0) + 50)
            let malformed = (try await h.metric("rtms_relay_malformed_frames_total") ?? 0) - malformedBefore
            // Everything that is not a well-formed RTMS message is counted; a few (wrong but parseable shapes) may
            // be ignored as unknown messages instead.
            #expect(malformed >= 50, "malformed frames counted: \(malformed)")
            #expect(!h.logs.lines(containing: "malformed RTMS frame ignored").isEmpty)
            #expect(h.events(.streamInterrupted, stream: stream).isEmpty, "\(h.summary())")
            let problems = try await h.stopCallsAndCheckAudio(calls)
            #expect(problems.isEmpty, "\(problems)")
            #expect(h.events(.streamFailed).isEmpty)
        }
    }

    @Test("keep-alives stall (signaling open but silent): the relay's liveness watchdog reconnects, and no audio is lost")
    func stalledKeepAlives() async throws {
        try await RelayHarness.run { h in
            let calls = try await h.startCalls(1, framesEach: 25)
            let (engagement, stream) = calls[0]
            try await h.simulator.stallKeepAlives(engagementID: engagement)
            // The harness's liveness timeout is 5 s; keep-alives come every second otherwise.
            try await h.waitFor(.streamResumed, stream: stream, timeout: .seconds(30))
            #expect(!h.logs.lines(containing: "no frame received for").isEmpty, "no log line says why the relay reconnected")
            try await h.waitForAudio(stream: stream, perChannel: (h.audio(stream: stream)["1"]?.count ?? 0) + 50)
            let status = try #require(await h.simulator.streamStatus(streamID: stream))
            #expect(status.phase == .streaming)
            #expect(status.signalingConnectionsAccepted == 2)
            let problems = try await h.stopCallsAndCheckAudio(calls)
            #expect(problems.isEmpty, "\(problems)")
            #expect(h.events(.streamFailed).isEmpty)
        }
    }
}
