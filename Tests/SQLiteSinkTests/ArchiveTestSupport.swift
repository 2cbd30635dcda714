import Foundation
import Logging
import RelayCore
import RelayTesting
@testable import SQLiteSink

/// A fresh directory under /tmp, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "sqlitesink-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

func makeArchive(path: String, storeAudio: Bool = false) -> (SQLiteSink, SinkContext) {
    let context = SinkContext(id: "archive", logger: Logger(label: "test"))
    return (SQLiteSink(options: SQLiteSinkOptions(path: path, storeAudio: storeAudio), context: context), context)
}

/// A whole two-party call as the relay would publish it: engagement and stream lifecycle, 2 s of audio per
/// party with the customer muted for 400 ms, a transcript, a hold, and the stop.
func recordedCall(engagement: String = "eng-1", stream: String = "stream-1", audio: DeterministicAudio = DeterministicAudio()) -> [StreamEvent] {
    let t = audio.origin
    var seq: UInt64 = 0
    func event(_ time: Int64, _ streamID: String?, _ kind: StreamEvent.Kind) -> StreamEvent {
        seq += 1
        return StreamEvent(seq: seq, timeMillis: time, engagementID: engagement, streamID: streamID, kind: kind)
    }
    var events = [
        event(t - 3_000, nil, .engagementStarted(payload: .object(["queue": .string("support")]))),
        event(t - 2_000, stream, .streamStarted(serverHost: "rtms.zoom.us")),
        event(t - 100, stream, .streamConnected(MediaParameters(audio: audio.format, frameMilliseconds: 20))),
    ]
    for frame in 0..<100 {
        var agent = audio.event(engagement: engagement, stream: stream, channel: "agent", party: 0, frame: frame, userName: "Ada")
        agent.seq = { seq += 1; return seq }()
        events.append(agent)
        if !(40..<60).contains(frame) {
            var customer = audio.event(engagement: engagement, stream: stream, channel: "customer", party: 1, frame: frame)
            customer.seq = { seq += 1; return seq }()
            events.append(customer)
        }
        if frame == 50 {
            events.append(event(t + 1_000, stream, .transcript(Transcript(channel: "agent", speaker: "Ada", text: "How can I help?", start: t + 600, end: t + 1_000, language: "en"))))
            events.append(event(t + 1_000, stream, .participant(ParticipantEvent(eventType: 3, eventName: "hold", participant: .object(["user_id": .string("u1")])))))
        }
    }
    events.append(event(t + 2_100, stream, .streamStopped(StopReason(code: 1, name: "STOP_BC_HOST_TRIGGERED"))))
    events.append(event(t + 2_500, nil, .engagementEnded(payload: .object([:]))))
    return events
}
