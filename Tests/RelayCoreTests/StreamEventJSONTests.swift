import Foundation
import NIOCore
import RelayCore
import Testing

@Suite("StreamEvent JSON form")
struct StreamEventJSONTests {
    static let samples: [StreamEvent.Kind] = [
        .engagementStarted(payload: ["engagement_id": "e1", "account_id": "acc"]),
        .engagementEnded(payload: ["engagement_id": "e1"]),
        .streamRequested(action: .pause, by: "agent@example.com"),
        .streamStarted(serverHost: "rtms.zoom.us"),
        .streamConnected(MediaParameters(audio: AudioFormat(sampleRate: 16_000, channels: 1, codec: .l16), frameMilliseconds: 20)),
        .streamInterrupted(reason: "media socket closed", attempt: 2),
        .streamResumed(reason: "media reconnected", attempt: 2),
        .streamPaused,
        .streamUnpaused,
        .streamStopped(StopReason(code: 25, name: "STOP_BC_ALL_APPS_DISABLED")),
        .streamFailed(statusCode: 3, message: "invalid signature"),
        .audio(AudioFrame(channel: "ch-1", userName: "Caller", timestamp: 1_764_000_000_123, pcm: ByteBuffer(bytes: [0, 1, 2, 250, 255]))),
        .transcript(Transcript(channel: "ch-2", speaker: "Agent", text: "Hello, how can I help?", start: 10, end: 20, language: "en-US")),
        .participant(ParticipantEvent(eventType: 9, eventName: "answered", participant: ["user_id": "u1", "role": "agent"])),
        .audioGap(AudioGap(channel: "ch-2", userName: "Agent", fromTimestamp: 1_764_000_000_200, durationMillis: 2_400, cause: .reconnect)),
    ]

    /// Each sample's fields as they must appear in the JSON form, written out by hand (not by the encoder under
    /// test), so a field the encoder leaves out or renames fails here even if the decoder agrees with it.
    nonisolated(unsafe) static let expectedFields: [[String: Any]] = [
        ["type": "engagement.started", "payload": ["engagement_id": "e1", "account_id": "acc"]],
        ["type": "engagement.ended", "payload": ["engagement_id": "e1"]],
        ["type": "stream.requested", "action": "pause", "by": "agent@example.com"],
        ["type": "stream.started", "server_host": "rtms.zoom.us"],
        ["type": "stream.connected", "media_params": ["audio": ["sample_rate": 16_000, "channels": 1, "codec": "L16"], "frame_ms": 20]],
        ["type": "stream.interrupted", "reason": "media socket closed", "attempt": 2],
        ["type": "stream.resumed", "reason": "media reconnected", "attempt": 2],
        ["type": "stream.paused"],
        ["type": "stream.unpaused"],
        ["type": "stream.stopped", "reason": ["code": 25, "name": "STOP_BC_ALL_APPS_DISABLED"]],
        ["type": "stream.failed", "status_code": 3, "message": "invalid signature"],
        ["type": "audio", "channel": "ch-1", "user_name": "Caller", "timestamp": 1_764_000_000_123,
         "format": ["sample_rate": 16_000, "channels": 1, "codec": "L16"], "pcm": "AAEC+v8="],
        ["type": "transcript", "channel": "ch-2", "speaker": "Agent", "text": "Hello, how can I help?", "start": 10, "end": 20, "language": "en-US"],
        ["type": "participant", "event_type": 9, "event_name": "answered", "participant": ["user_id": "u1", "role": "agent"]],
        ["type": "audio.gap", "channel": "ch-2", "user_name": "Agent", "from_timestamp": 1_764_000_000_200, "duration_ms": 2_400, "cause": "reconnect"],
    ]

    @Test("every event type's JSON has exactly the fields of the stable form, with their values", arguments: samples.indices)
    func pinnedFields(index: Int) throws {
        let event = StreamEvent(seq: 42, timeMillis: 1_764_090_286_123, engagementID: "eng-1", streamID: "str-1", kind: Self.samples[index])
        let json = try #require(try JSONSerialization.jsonObject(with: event.jsonData()) as? NSDictionary)
        var expected = Self.expectedFields[index]
        expected["seq"] = 42
        expected["time"] = "2025-11-25T17:04:46.123Z"
        expected["engagement_id"] = "eng-1"
        expected["stream_id"] = "str-1"
        #expect(json == NSDictionary(dictionary: expected), "\(json)")
    }

    @Test("the pinned fields cover every event type")
    func pinnedCoversEveryType() {
        #expect(Set(Self.expectedFields.compactMap { $0["type"] as? String }) == Set(EventType.allCases.map(\.rawValue)))
        #expect(Self.expectedFields.count == Self.samples.count)
    }

    @Test("every event type survives encode → decode unchanged", arguments: samples.indices)
    func roundTrip(index: Int) throws {
        let event = StreamEvent(seq: 42, timeMillis: 1_764_090_286_123, engagementID: "eng-1", streamID: "str-1", kind: Self.samples[index])
        let json = try event.jsonData()
        let decoded = try StreamEvent.decode(json: json)
        #expect(decoded.kind == event.kind)
        #expect(decoded.seq == 42)
        #expect(decoded.timeMillis == 1_764_090_286_123)
        #expect(decoded.engagementID == "eng-1" && decoded.streamID == "str-1")
    }

    @Test("a stamped event's id is {origin hex}-{seq} and survives the JSON; an unstamped one has none; a bad id is refused")
    func stableID() throws {
        var event = StreamEvent(seq: 7, engagementID: "e", kind: .streamPaused)
        #expect(event.id == nil)
        let plain = try #require(try JSONSerialization.jsonObject(with: event.jsonData()) as? [String: Any])
        #expect(plain["id"] == nil && plain["seq"] as? Int == 7)
        event.origin = 0xbeef
        #expect(event.id == "beef-7")
        let decoded = try StreamEvent.decode(json: event.jsonData())
        #expect(decoded.origin == 0xbeef && decoded.id == "beef-7")
        for bad in ["beef-8", "zz-7", "0-7", "beef"] {
            #expect(throws: DecodingError.self) {
                try StreamEvent.decode(json: Data(#"{"id":"\#(bad)","seq":7,"time":"2025-11-25T17:04:46.123Z","engagement_id":"e","type":"stream.paused"}"#.utf8))
            }
        }
    }

    @Test("the JSON form uses snake_case keys, ISO-8601 UTC time and base64 pcm")
    func stableForm() throws {
        let event = StreamEvent(
            seq: 7, timeMillis: 1_764_090_286_123, engagementID: "eng-1", streamID: "str-1",
            kind: .audio(AudioFrame(channel: "ch-1", userName: "Caller", timestamp: 99, pcm: ByteBuffer(bytes: Array("hi!".utf8))))
        )
        let text = String(decoding: try event.jsonData(), as: UTF8.self)
        #expect(text == #"{"channel":"ch-1","engagement_id":"eng-1","format":{"channels":1,"codec":"L16","sample_rate":16000},"pcm":"aGkh","seq":7,"stream_id":"str-1","time":"2025-11-25T17:04:46.123Z","timestamp":99,"type":"audio","user_name":"Caller"}"#)
    }

    @Test("summary encoding replaces the PCM with its byte count")
    func summaryHidesPCM() throws {
        let event = StreamEvent(engagementID: "e", kind: .audio(AudioFrame(channel: "c", timestamp: 1, pcm: ByteBuffer(bytes: [1, 2, 3, 4]))))
        let text = String(decoding: try event.jsonData(pcm: .summary), as: UTF8.self)
        #expect(text.contains(#""pcm_bytes":4"#))
        #expect(!text.contains(#""pcm":"#))
    }

    @Test("stream.stopped carries the reason's number and name")
    func stopReason() throws {
        let event = StreamEvent(seq: 1, engagementID: "e", kind: .streamStopped(StopReason(code: 24, name: "STOP_BC_KEEP_ALIVE_TIMEOUT")))
        let text = String(decoding: try event.jsonData(), as: UTF8.self)
        #expect(text.contains(#""reason":{"code":24,"name":"STOP_BC_KEEP_ALIVE_TIMEOUT"}"#))
        #expect(text.contains(#""type":"stream.stopped""#))
    }

    @Test("decoding rejects an unknown type and a bad time")
    func rejectsBadInput() {
        #expect(throws: (any Error).self) {
            try StreamEvent.decode(json: Data(#"{"seq":1,"time":"2025-11-25T17:04:46.123Z","engagement_id":"e","type":"nope"}"#.utf8))
        }
        #expect(throws: (any Error).self) {
            try StreamEvent.decode(json: Data(#"{"seq":1,"time":"yesterday","engagement_id":"e","type":"stream.paused"}"#.utf8))
        }
    }
}

@Suite("Base64 and time")
struct CodecTests {
    @Test("base64 matches Foundation for every length up to 64, and round-trips")
    func base64() {
        for length in 0...64 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let encoded = Base64.encode(bytes)
            #expect(encoded == Data(bytes).base64EncodedString())
            #expect(Base64.decode(encoded) == bytes)
        }
    }

    @Test("invalid base64 is refused", arguments: ["abc", "ab=c", "a===", "!!!!", "ab==abcd"])
    func invalidBase64(text: String) {
        #expect(Base64.decode(text) == nil)
    }

    @Test("ISO-8601 formatting and parsing agree")
    func iso8601() {
        for millis: Int64 in [0, 1_764_090_286_123, 951_782_400_999, 4_102_444_799_000] {
            #expect(EventClock.parseISO8601(EventClock.iso8601(millis: millis)) == millis)
        }
        #expect(EventClock.iso8601(millis: 0) == "1970-01-01T00:00:00.000Z")
    }
}
