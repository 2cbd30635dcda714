import Foundation
import NIOCore
import RelayCore
import Testing
@testable import RTMSIngest

@Suite("RTMS wire limits: numbers from the media server are range-checked where they enter")
struct RTMSWireLimitsTests {
    typealias Machine = RTMSSessionStateMachine

    @Test("security #3: a media handshake confirming a huge send_rate, channel 1000 and an unknown sample rate keeps the requested parameters and names what it ignored")
    func handshakeRanges() throws {
        let text = #"{"msg_type":4,"status_code":0,"media_params":{"audio":{"channel":1000,"sample_rate":99,"codec":1,"send_rate":999999999999999999}}}"#
        guard case .dataHandshake(let response) = try RTMSMessageParser.parse(ByteBuffer(string: text)) else {
            Issue.record("not parsed as a data handshake")
            return
        }
        var machine = Machine(serverURL: RTMSSessionStateMachineTests.url, configuration: RTMSSessionStateMachineTests.config)
        _ = machine.handle(.start)
        _ = machine.handle(.signalingHandshake(1, RTMSSessionStateMachineTests.ok, nowMillis: 1))
        #expect(machine.handle(.dataHandshake(2, response)).first == .publish(.streamConnected(MediaParameters())))
        #expect(response.outOfRangeParameters.count == 3, "\(response.outOfRangeParameters)")
        #expect(response.outOfRangeParameters.contains { $0.hasPrefix("send_rate 999999999999999999") })
        for (channel, sendRate) in [(0, 0), (-1, -20), (3, 1001), (Int.max, Int.min)] {
            var audio = try #require(response.audio)
            audio.channel = channel
            audio.sendRate = sendRate
            #expect(DataHandshakeResponse(statusCode: 0, audio: audio).mediaParameters(requested: MediaParameters()) == MediaParameters())
        }
        var stereo = try #require(response.audio)
        (stereo.channel, stereo.sendRate, stereo.sampleRate) = (2, 100, 3)
        #expect(DataHandshakeResponse(statusCode: 0, audio: stereo).mediaParameters(requested: MediaParameters())
            == MediaParameters(audio: AudioFormat(sampleRate: 48_000, channels: 2), frameMilliseconds: 100))
        #expect(DataHandshakeResponse(statusCode: 0, audio: stereo).outOfRangeParameters.isEmpty)
    }

    @Test("security #3: audio timestamps that are negative, past the year 9999 or more than 24 h from the stream's first are refused; the stream's own go on")
    func timestampGate() {
        var gate = AudioTimestampGate()
        func admit(_ timestamp: Int64) -> Bool { gate.admit(timestamp) }
        #expect(admit(0))  // no timestamp: placed by arrival
        #expect(gate.origin == nil)
        #expect(!admit(999_999_999_999_999_999))
        #expect(gate.origin == nil)
        #expect(admit(1_738_392_033_699))
        #expect(gate.origin == 1_738_392_033_699)
        #expect(admit(1_738_392_033_719))
        #expect(!admit(1000))
        #expect(!admit(-5))
        #expect(!admit(.min))
        #expect(!admit(.max))
        #expect(admit(1_738_392_033_699 + RTMSWireLimits.maximumDistanceFromOrigin))
        #expect(!admit(1_738_392_033_699 + RTMSWireLimits.maximumDistanceFromOrigin + 1))
        #expect(admit(1_738_392_033_699 - RTMSWireLimits.maximumDistanceFromOrigin))
        #expect(admit(1_738_392_033_739))
    }

    @Test("transcript times outside the timestamp range, or an end before the start, are left out; the language must be one of Zoom's ids")
    func transcriptTimes() {
        let now: Int64 = 1_738_392_033_699
        #expect(RTMSWireLimits.transcriptTimes(start: now, end: now + 800) == (now, now + 800))
        #expect(RTMSWireLimits.transcriptTimes(start: now, end: now) == (now, now))
        #expect(RTMSWireLimits.transcriptTimes(start: nil, end: now) == (nil, now))
        #expect(RTMSWireLimits.transcriptTimes(start: now, end: now - 1) == (now, nil))
        #expect(RTMSWireLimits.transcriptTimes(start: 999_999_999_999_999_999, end: -5) == (nil, nil))
        #expect(RTMSWireLimits.transcriptTimes(start: .min, end: .max) == (nil, nil))
        #expect(RTMSWireLimits.transcriptTimes(start: 0, end: RTMSWireLimits.timestamps.upperBound) == (0, RTMSWireLimits.timestamps.upperBound))
        #expect(RTMSWireLimits.transcriptLanguages.contains(-1) && RTMSWireLimits.transcriptLanguages.contains(36))
        #expect(!RTMSWireLimits.transcriptLanguages.contains(-2) && !RTMSWireLimits.transcriptLanguages.contains(37))
    }

    @Test("the media handshake asks for transcripts only with media type 8: content_type 5, src_language 9 (English), enable_lid")
    func transcriptHandshake() throws {
        let configuration = RTMSClientConfiguration(clientID: "id", clientSecret: Secret("secret"), allowedHosts: ["*.zoom.us"])
        #expect(configuration.transcripts)
        func params(_ types: RTMSMediaType) throws -> (mediaType: Int?, params: [String: Any]) {
            let text = Wire.encode(DataHandshakeRequest(instanceKey: "engagement_id", instanceID: "E", streamID: "S", signature: "sig", sequence: 2,
                                                        mediaType: types, audio: configuration.requestedAudio, transcript: configuration.requestedTranscript))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            return (object["media_type"] as? Int, try #require(object["media_params"] as? [String: Any]))
        }
        let both = try params([.audio, .transcript])
        #expect(both.mediaType == 9)
        let transcript = try #require(both.params["transcript"] as? [String: Any])
        #expect(transcript["content_type"] as? Int == 5 && transcript["src_language"] as? Int == 9 && transcript["enable_lid"] as? Bool == true)
        #expect((both.params["audio"] as? [String: Any])?["codec"] as? Int == 1)
        let audioOnly = try params(.audio)
        #expect(audioOnly.mediaType == 1)
        #expect(audioOnly.params["transcript"] == nil && audioOnly.params["audio"] != nil)
    }
}
