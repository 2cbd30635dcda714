import Foundation
import Testing
import ZoomSimulator

/// Signaling and media, from the client side with a raw WebSocket client.
@Suite struct RTMSTests {
    @Test("signaling handshake validation: type 1, unknown stream 2, bad signature 3, garbage 4, duplicate 8")
    func signalingValidation() async throws {
        try await Harness.run { h in
            let stream = try await h.startCall()
            let url = h.endpoints.signalingURLs[0]
            func refused(_ message: [String: Any]?, raw: String? = nil) async throws -> JSONMessage {
                let result = MutableBox()
                try await h.withSocket(url) { socket in
                    if let raw { socket.sendRaw(raw) } else { socket.send(message!) }
                    result.set(try await socket.waitFor("refusal") { $0.msgType == 2 })
                    try await socket.waitUntilFinished()
                }
                return result.value!
            }
            #expect(try await refused(["msg_type": 3, "meeting_uuid": stream.engagementID]).int("status_code") == 1)
            var unknown = h.signalingHandshake(stream)
            unknown["rtms_stream_id"] = "0000"
            #expect(try await refused(unknown).int("status_code") == 2)
            #expect(try await refused(h.signalingHandshake(stream, signature: String(repeating: "0", count: 64))).int("status_code") == 3)
            #expect(try await refused(nil, raw: "this is not json").int("status_code") == 4)

            try await h.withSocket(url) { first in
                // The official SDK sends meeting_uuid in binary frames; both are accepted.
                first.send(h.signalingHandshake(stream, key: "meeting_uuid"), binary: true)
                let ok = try await first.waitFor { $0.msgType == 2 }
                #expect(ok.int("status_code") == 0)
                #expect(ok.int("sequence") == 7)
                let urls = (ok["media_server"] as? [String: Any])?["server_urls"] as? [String: String]
                #expect(urls?["audio"] == h.endpoints.mediaURLs[0]["audio"])
                #expect(urls?["all"] != nil)
                let duplicate = try await refused(h.signalingHandshake(stream))
                #expect(duplicate.int("status_code") == 8)
                #expect((duplicate["reason"] as? String)?.contains("duplicate signal request") == true)
                #expect(try await first.waitFor { $0.msgType == 6 }.event["event_type"] as? Int == 1)
            }
            let status = await h.simulator.streamStatus(streamID: stream.streamID)
            #expect(status?.signalingConnectionsAccepted == 1)
        }
    }

    @Test("data handshake validation: signature, media type and audio parameters")
    func mediaValidation() async throws {
        try await Harness.run { h in
            let stream = try await h.startCall()
            try await h.withSocket(h.endpoints.signalingURLs[0]) { signaling in
                signaling.send(h.signalingHandshake(stream))
                try await signaling.waitFor { $0.msgType == 2 }
                func code(_ kind: String, _ message: [String: Any]) async throws -> Int? {
                    let box = MutableBox()
                    try await h.withSocket(h.endpoints.mediaURLs[0][kind]!) { media in
                        media.send(message)
                        box.set(try await media.waitFor { $0.msgType == 4 })
                    }
                    return box.value?.int("status_code")
                }
                var badSignature = h.dataHandshake(stream)
                badSignature["signature"] = "abc"
                #expect(try await code("audio", badSignature) == 3)
                #expect(try await code("audio", h.dataHandshake(stream, mediaType: 8)) == 7)
                #expect(try await code("all", h.dataHandshake(stream, mediaType: 2)) == 10)
                #expect(try await code("audio", h.dataHandshake(stream, mediaType: 0)) == 14)
                #expect(try await code("audio", h.dataHandshake(stream, audio: ["codec": 4, "sample_rate": 1])) == 20)
                #expect(try await code("audio", h.dataHandshake(stream, audio: ["codec": 1, "channel": 2])) == 21)
                #expect(try await code("audio", h.dataHandshake(stream, audio: ["codec": 4, "sample_rate": 3, "channel": 2])) == 22)
                #expect(try await code("audio", h.dataHandshake(stream, audio: ["send_rate": 30])) == 24)
                // Defaults are filled in and echoed; payload_encrypted is always present.
                let box = MutableBox()
                try await h.withSocket(h.endpoints.mediaURLs[0]["audio"]!) { media in
                    var message = h.dataHandshake(stream)
                    message["media_params"] = NSNull()
                    media.send(message)
                    box.set(try await media.waitFor { $0.msgType == 4 })
                }
                let response = try #require(box.value)
                #expect(response.int("status_code") == 0)
                #expect(response["payload_encrypted"] as? Bool == false)
                let audio = (response["media_params"] as? [String: Any])?["audio"] as? [String: Any]
                #expect(audio?["codec"] as? Int == 1 && audio?["sample_rate"] as? Int == 1 && audio?["send_rate"] as? Int == 20)
            }
        }
    }

    @Test("media flows only after CLIENT_READY_ACK, byte-exact, two channels, 20 ms timestamps")
    func audioAfterReady() async throws {
        try await Harness.run { h in
            let stream = try await h.startCall()
            try await h.withSocket(h.endpoints.signalingURLs[0]) { signaling in
                signaling.send(h.signalingHandshake(stream))
                try await signaling.waitFor { $0.msgType == 2 }
                try await h.withSocket(h.endpoints.mediaURLs[0]["audio"]!) { media in
                    media.send(h.dataHandshake(stream))
                    try await media.waitFor { $0.msgType == 4 }
                    try await Task.sleep(for: .milliseconds(300))
                    #expect(media.audio().isEmpty)
                    signaling.send(["msg_type": 7, "rtms_stream_id": stream.streamID])
                    #expect(try await signaling.waitFor { $0.msgType == 8 }.int("state") == 1)
                    #expect(try await signaling.waitFor { $0.msgType == 9 }.int("state") == 2)
                    try await Self.waitForAudio(media, count: 100)
                    try Self.checkAudio(media.audio())
                }
            }
            let status = try #require(await h.simulator.streamStatus(streamID: stream.streamID))
            #expect(status.framesSent.values.allSatisfy { $0 >= 50 })
        }
    }

    @Test("transcripts: one segment per turn from the party speaking, its line of the script, timed like the turn's audio")
    func transcripts() async throws {
        try await Harness.run { h in
            let stream = try await h.startCall()
            // Audio and transcripts (1 + 8) on the 'all' URL, as the relay asks.
            try await h.joined(stream, mediaKind: "all", mediaType: 9) { _, media in
                try await Self.waitForTranscripts(media, count: 2)
                let origin = try #require(media.audio().first?.content["timestamp"] as? Int)
                for (number, segment) in media.received.filter({ $0.msgType == 17 }).prefix(2).enumerated() {
                    let turn = SimulatedConversation.turn(number)
                    #expect(segment.content["data"] as? String == turn.text)
                    #expect(segment.content["channel_id"] as? String == SimulatedAudio.channelID(turn.party))
                    #expect(segment.content["user_name"] as? String == SimulatedAudio.participantNames[turn.party])
                    #expect(segment.content["start_time"] as? Int == origin + 20 * turn.frames.lowerBound)
                    #expect(segment.content["end_time"] as? Int == origin + 20 * turn.frames.upperBound)
                    #expect(segment.content["language"] as? Int == 9)
                }
                // A segment goes out once its turn is spoken: the audio of the turn's last frame was due first.
                let firstSegment = try #require(media.received.firstIndex { $0.msgType == 17 })
                let audioBefore = media.received[..<firstSegment].filter { $0.msgType == 14 && $0.content["channel_id"] as? String == SimulatedAudio.channelID(0) }
                #expect(audioBefore.count >= SimulatedConversation.turn(0).frames.upperBound)
                try Self.checkAudio(media.audio())
            }
            #expect(await h.simulator.streamStatus(streamID: stream.streamID)?.transcriptsSent ?? 0 >= 2)
        }
    }

    @Test("an audio-only media connection gets no transcripts")
    func noTranscriptsUnasked() async throws {
        try await Harness.run { h in
            let stream = try await h.startCall()
            try await h.joined(stream, mediaKind: "all", mediaType: 1) { _, media in
                try await Self.waitForAudio(media, count: 2 * (SimulatedConversation.turn(0).frames.upperBound + 10))
                #expect(!media.received.contains { $0.msgType == 17 })
            }
            #expect(await h.simulator.streamStatus(streamID: stream.streamID)?.transcriptsSent == 0)
        }
    }

    @Test("keep-alives on both sockets; three unanswered end the stream with reason 24")
    func keepAliveExpiry() async throws {
        // 400 ms between requests: three misses take 1.2 s, more than a loaded machine needs to answer one.
        try await Harness.run({ $0.keepAliveInterval = .milliseconds(400) }) { h in
            let answered = try await h.startCall()
            try await h.joined(answered) { signaling, media in
                try await signaling.waitFor { $0.msgType == 12 }
                try await media.waitFor { $0.msgType == 12 }
                try await Task.sleep(for: .milliseconds(1_600))
                #expect(!signaling.isFinished)
            }
            let stream = try await h.startCall()
            try await h.withSocket(h.endpoints.signalingURLs[0], answerKeepAlives: false) { signaling in
                signaling.send(h.signalingHandshake(stream))
                try await signaling.waitFor { $0.msgType == 2 }
                let terminated = try await signaling.waitFor { $0.msgType == 8 && $0.int("state") == 4 }
                #expect(terminated.int("reason") == 24)
                #expect(try await signaling.waitFor { $0.msgType == 9 }.int("stop_reason") == 24)
                try await signaling.waitUntilFinished()
            }
            let stopped = try await h.webhook("contact_center.voice_rtms_stopped")
            #expect(stopped.payload["stop_reason"] as? Int == 24)
            #expect(stopped.signatureValid)
        }
    }

    @Test("stop: session state 5, stream state 4 reason 25, close, signed voice_rtms_stopped")
    func stop() async throws {
        try await Harness.run { h in
            let stream = try await h.startCall()
            try await h.joined(stream) { signaling, media in
                try await Self.waitForAudio(media, count: 4)
                try await h.simulator.stopStream(engagementID: stream.engagementID)
                #expect(try await signaling.waitFor { $0.msgType == 9 && $0.int("state") == 5 }.int("stop_reason") == 25)
                #expect(try await signaling.waitFor { $0.msgType == 8 && $0.int("state") == 4 }.int("reason") == 25)
                try await signaling.waitUntilFinished()
                try await media.waitUntilFinished()
                #expect(signaling.serverCloseCode == 1000)
            }
            let stopped = try await h.webhook("contact_center.voice_rtms_stopped")
            #expect(stopped.payload["rtms_stream_id"] as? String == stream.streamID)
            #expect(stopped.signatureValid)
        }
    }

    @Test("pause and resume send session states 3 and 4 and hold the audio")
    func pauseResume() async throws {
        try await Harness.run { h in
            let stream = try await h.startCall()
            try await h.joined(stream) { signaling, media in
                try await Self.waitForAudio(media, count: 4)
                try await h.simulator.pauseStream(engagementID: stream.engagementID)
                try await signaling.waitFor { $0.msgType == 9 && $0.int("state") == 3 }
                try await Task.sleep(for: .milliseconds(100))
                let before = media.audio().count
                try await Task.sleep(for: .milliseconds(300))
                #expect(media.audio().count == before)
                try await h.simulator.resumeStream(engagementID: stream.engagementID)
                try await signaling.waitFor { $0.msgType == 9 && $0.int("state") == 4 }
                try await Self.waitForAudio(media, count: before + 10)
            }
        }
    }

    @Test("drop media: event 7 and state 2 reason 14; a media reconnect resumes with the missed audio")
    func dropMedia() async throws {
        try await Harness.run { h in
            let stream = try await h.startCall()
            try await h.joined(stream) { signaling, media in
                try await Self.waitForAudio(media, count: 4)
                try await h.simulator.dropMedia(engagementID: stream.engagementID)
                _ = try await signaling.waitFor { $0.msgType == 6 && $0.event["event_type"] as? Int == 7 }
                #expect(try await signaling.waitFor { $0.msgType == 8 && $0.int("state") == 2 }.int("reason") == 14)
                try await media.waitUntilFinished()
                try await Task.sleep(for: .milliseconds(200))
                try await h.withSocket(h.endpoints.mediaURLs[0]["audio"]!) { again in
                    again.send(h.dataHandshake(stream))
                    #expect(try await again.waitFor { $0.msgType == 4 }.int("status_code") == 0)
                    signaling.send(["msg_type": 7, "rtms_stream_id": stream.streamID])
                    try await Self.waitForAudio(again, count: 20)
                    // Frames are continuous across the drop: the gap was buffered and flushed.
                    try Self.checkAudio(media.audio() + again.audio())
                }
            }
        }
    }

    @Test("media reconnect window runs out: stream ends with reason 19")
    func mediaWindowExpires() async throws {
        try await Harness.run({ $0.mediaReconnectWindow = .milliseconds(300) }) { h in
            let stream = try await h.startCall()
            try await h.joined(stream) { signaling, media in
                try await Self.waitForAudio(media, count: 2)
                try await h.simulator.dropMedia(engagementID: stream.engagementID)
                #expect(try await signaling.waitFor { $0.msgType == 8 && $0.int("state") == 4 }.int("reason") == 19)
            }
            #expect(try await h.webhook("contact_center.voice_rtms_stopped").payload["stop_reason"] as? Int == 19)
        }
    }

    @Test("drop signaling: voice_rtms_interrupted, then a full reconnect is accepted")
    func dropSignaling() async throws {
        try await Harness.run { h in
            let stream = try await h.startCall()
            try await h.joined(stream) { signaling, media in
                try await Self.waitForAudio(media, count: 2)
                try await h.simulator.dropSignaling(engagementID: stream.engagementID)
                try await signaling.waitUntilFinished()
                try await media.waitUntilFinished()
                #expect(signaling.serverCloseCode == nil)
            }
            let interrupted = try await h.webhook("contact_center.voice_rtms_interrupted")
            #expect(interrupted.payload["rtms_stream_id"] as? String == stream.streamID)
            #expect(interrupted.signatureValid)
            try await h.joined(stream) { _, media in try await Self.waitForAudio(media, count: 4) }
            #expect(await h.simulator.streamStatus(streamID: stream.streamID)?.signalingConnectionsAccepted == 2)
        }
    }

    @Test("failover: a new voice_rtms_started for the live stream points at the other listener")
    func failover() async throws {
        try await Harness.run { h in
            let stream = try await h.startCall()
            try await h.joined(stream) { signaling, media in
                try await Self.waitForAudio(media, count: 2)
                let url = try await h.simulator.failover(engagementID: stream.engagementID)
                #expect(url == h.endpoints.signalingURLs[1])
                try await signaling.waitUntilFinished()
            }
            let second = try await h.webhook("contact_center.voice_rtms_started", occurrence: 2)
            #expect(second.payload["rtms_stream_id"] as? String == stream.streamID)
            #expect(second.payload["server_urls"] as? String == h.endpoints.signalingURLs[1])
            // The old listener no longer knows the stream.
            try await h.withSocket(h.endpoints.signalingURLs[0]) { old in
                old.send(h.signalingHandshake(stream))
                let refusal = try await old.waitFor { $0.msgType == 2 }
                #expect(refusal.int("status_code") == 2)
            }
            try await h.joined(stream, listener: 1) { _, media in try await Self.waitForAudio(media, count: 4) }
        }
    }

    @Test("silence gap on one channel: its packets stop, the other channel goes on")
    func silenceGap() async throws {
        try await Harness.run { h in
            let stream = try await h.startCall()
            try await h.joined(stream) { _, media in
                try await Self.waitForAudio(media, count: 4)
                let injectedAt = Int(Date().timeIntervalSince1970 * 1000)
                try await h.simulator.injectSilence(engagementID: stream.engagementID, channel: 1, duration: .milliseconds(400))
                // Wait until caller audio from well after the gap has arrived (a loaded machine delivers late).
                let callerID = SimulatedAudio.channelID(1)
                let deadline = ContinuousClock.now + .seconds(20)
                while !media.audio().contains(where: { $0.content["channel_id"] as? String == callerID && ($0.content["timestamp"] as? Int ?? 0) > injectedAt + 800 }) {
                    guard ContinuousClock.now < deadline else { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                let caller = media.audio().filter { $0.content["channel_id"] as? String == callerID }
                let steps = zip(caller, caller.dropFirst()).map { ($1.content["timestamp"] as! Int) - ($0.content["timestamp"] as! Int) }
                #expect(steps.contains { $0 >= 400 })
                let agent = media.audio().filter { $0.content["channel_id"] as? String == SimulatedAudio.channelID(0) }
                #expect(zip(agent, agent.dropFirst()).allSatisfy { ($1.content["timestamp"] as! Int) - ($0.content["timestamp"] as! Int) == 20 })
            }
        }
    }

    @Test("abrupt close: sockets drop without a close frame and a reconnect is accepted")
    func abruptClose() async throws {
        try await Harness.run { h in
            let stream = try await h.startCall()
            try await h.joined(stream) { signaling, media in
                try await Self.waitForAudio(media, count: 2)
                try await h.simulator.abruptClose(engagementID: stream.engagementID)
                try await signaling.waitUntilFinished()
                try await media.waitUntilFinished()
                #expect(signaling.serverCloseCode == nil)
            }
            try await h.joined(stream) { _, media in try await Self.waitForAudio(media, count: 2) }
        }
    }

    @Test("ZCC voice events carry participant_info after a subscription; STREAM_CLOSE_REQ ends with reason 20")
    func voiceEventsAndClose() async throws {
        try await Harness.run { h in
            let stream = try await h.startCall()
            try await h.joined(stream) { signaling, _ in
                signaling.send(["msg_type": 5, "events": [["event_type": 8, "subscribe": true], ["event_type": 12, "subscribe": true]]])
                let answered = try await signaling.waitFor { $0.msgType == 6 && $0.event["event_type"] as? Int == 8 }
                let info = answered.event["participant_info"] as? [String: Any]
                #expect(info?["channel_id"] as? String == SimulatedAudio.channelID(1))
                #expect(try await h.simulator.sendVoiceEvent(engagementID: stream.engagementID, .userHold, channel: 0))
                try await signaling.waitFor { $0.msgType == 6 && $0.event["event_type"] as? Int == 12 }
                signaling.send(["msg_type": 21, "rtms_stream_id": stream.streamID])
                #expect(try await signaling.waitFor { $0.msgType == 22 }.int("status_code") == 0)
                #expect(try await signaling.waitFor { $0.msgType == 8 && $0.int("state") == 4 }.int("reason") == 20)
            }
        }
    }

    @Test("garbage after the handshake is ignored: the stream keeps flowing")
    func garbageIsHarmless() async throws {
        try await Harness.run { h in
            let stream = try await h.startCall()
            try await h.joined(stream) { signaling, media in
                for junk in ["", "[]", "{", "null", "{\"msg_type\":\"7\"}", "{\"msg_type\":5,\"events\":7}", "{\"msg_type\":99}",
                    String(repeating: "x", count: 100_000)] {
                    signaling.sendRaw(junk)
                    media.sendRaw(junk)
                }
                try await Self.waitForAudio(media, count: media.audio().count + 20)
                #expect(!signaling.isFinished)
                #expect(await h.simulator.streamStatus(streamID: stream.streamID)?.phase == .streaming)
            }
        }
    }

    @Test("wss:// with a generated certificate")
    func tls() async throws {
        try await Harness.run({ $0.tls = .generated(caOutputPath: nil) }) { h in
            #expect(h.endpoints.signalingURLs[0].hasPrefix("wss://"))
            let stream = try await h.startCall()
            try await h.joined(stream) { _, media in try await Self.waitForAudio(media, count: 4) }
        }
    }

    // MARK: Helpers

    /// Waits for `count` audio messages in all, and for at least one of every party: after a stall the
    /// simulator catches up one channel at a time, so the first messages may all be one party's.
    static func waitForAudio(_ socket: TestSocket, count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        func channels() -> Set<String> { Set(socket.audio().compactMap { $0.content["channel_id"] as? String }) }
        while socket.audio().count < count || channels().count < SimulatedAudio.channelIDs.count {
            guard ContinuousClock.now < deadline else { throw TestFailure("only \(socket.audio().count) audio frames") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits for `count` transcript segments: the time the first `count` turns take to speak, and 10 s more.
    static func waitForTranscripts(_ socket: TestSocket, count: Int) async throws {
        let deadline = ContinuousClock.now + .milliseconds(20 * SimulatedConversation.turn(count - 1).frames.upperBound) + .seconds(10)
        while socket.received.filter({ $0.msgType == 17 }).count < count {
            guard ContinuousClock.now < deadline else { throw TestFailure("only \(socket.received.filter { $0.msgType == 17 }.count) transcript segments") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Every frame equals SimulatedAudio.frame for its index, per channel, with timestamps 20 ms apart.
    static func checkAudio(_ frames: [JSONMessage]) throws {
        var byChannel: [String: [JSONMessage]] = [:]
        for frame in frames { byChannel[frame.content["channel_id"] as? String ?? "?", default: []].append(frame) }
        #expect(Set(byChannel.keys) == Set(SimulatedAudio.channelIDs))
        for (channelID, frames) in byChannel {
            let channel = try #require(SimulatedAudio.channelIDs.firstIndex(of: channelID))
            let first = try #require(frames.first)
            let firstData = try #require(Data(base64Encoded: first.content["data"] as? String ?? ""))
            let start = try #require((0..<SimulatedAudio.cycleFrames).first { SimulatedAudio.frame(channel: channel, index: $0) == Array(firstData) })
            let t0 = try #require(first.content["timestamp"] as? Int)
            for (j, frame) in frames.enumerated() {
                let data = Array(Data(base64Encoded: frame.content["data"] as? String ?? "") ?? Data())
                #expect(data == SimulatedAudio.frame(channel: channel, index: start + j), "channel \(channelID) frame \(j)")
                #expect(frame.content["length"] as? Int == 640)
                #expect(frame.content["timestamp"] as? Int == t0 + 20 * j)
            }
        }
    }
}

/// Carries one value out of a `@Sendable` closure.
final class MutableBox: @unchecked Sendable {
    // Written once by the closure before the caller reads it, after the closure returned.
    private(set) var value: JSONMessage?
    func set(_ value: JSONMessage) { self.value = value }
}
