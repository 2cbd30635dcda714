import AsyncHTTPClient
import NIOConcurrencyHelpers
import Foundation
import NIOCore
import NIOPosix
import RTMSIngest
import RelayCore
import RelayTesting
import Synchronization
import Testing
import ZoomAPI
import ZoomWebhooks
import ZoomSimulator

@Suite("Relay + simulator over loopback sockets (issue 4)", .serialized, .timeLimit(.minutes(2)))
struct EndToEndIngestTests {
    @Test("a two-party call arrives byte-exactly and in order per channel through a media drop, a signaling drop and a failover, with no duplicate connection")
    func survivesFailures() async throws {
        try await RelayHarness.run { h in
            let engagement = await h.simulator.createEngagement()
            let started = try await h.simulator.startStream(engagementID: engagement)
            let stream = started.streamID
            try await h.waitFor(.streamConnected, stream: stream)
            try await h.waitForAudio(stream: stream, perChannel: 25)

            try await h.simulator.dropMedia(engagementID: engagement)
            try await h.waitFor(.streamResumed, stream: stream, count: 1)
            try await h.waitForAudio(stream: stream, perChannel: 75)

            try await h.simulator.dropSignaling(engagementID: engagement)
            try await h.waitFor(.streamResumed, stream: stream, count: 2)
            let afterSignaling = (h.audio(stream: stream)["1"]?.count ?? 0) + 25
            try await h.waitForAudio(stream: stream, perChannel: afterSignaling)

            try await h.simulator.failover(engagementID: engagement)
            try await waitUntil(timeout: .seconds(30), "resumed after failover: \(h.summary())") {
                h.events(.streamResumed, stream: stream).contains { if case .streamResumed(let reason, _) = $0.kind { reason == "server failover" } else { false } }
            }
            let afterFailover = (h.audio(stream: stream)["1"]?.count ?? 0) + 25
            try await h.waitForAudio(stream: stream, perChannel: afterFailover)

            try await h.simulator.stopStream(engagementID: engagement)
            try await h.waitFor(.streamStopped, stream: stream)
            try await Task.sleep(for: .milliseconds(300))

            try await expectExactAudio(h, streamID: stream)
            let transcriptProblems = await h.transcriptProblems(streamID: stream)
            #expect(transcriptProblems.isEmpty, "\(transcriptProblems.joined(separator: "; "))")
            let status = try #require(await h.simulator.streamStatus(streamID: stream))
            // One handshake per connection the relay opened: the first, the signaling reconnect and the failover.
            #expect(status.signalingConnectionsAccepted == 3, "\(h.summary())")
            #expect(status.mediaConnectionsAccepted == 4, "\(h.summary())")
            #expect(h.events(.streamStopped, stream: stream).count == 1)
            #expect(h.events(.streamFailed).isEmpty)
            let stopped = try #require(h.events(.streamStopped, stream: stream).first)
            if case .streamStopped(let reason) = stopped.kind { #expect(reason == StopReason(code: 25, name: "STOP_BC_MANUAL_API_TRIGGERED")) }
            // Every attempt is reported; each of the three interruptions ended in one resume.
            #expect(h.events(.streamResumed, stream: stream).count == 3, "\(h.summary())")
            #expect(h.events(.streamInterrupted, stream: stream).count >= 3)
            let lifecycle = h.sink.events.filter { $0.streamID == stream && [.streamInterrupted, .streamResumed].contains($0.type) }
            // When Zoom stops the stream, its media socket may close a moment before the signaling message says
            // why; the relay may then report one interruption that the stop ends. Never more than one.
            let trailing = lifecycle.reversed().prefix { $0.type == .streamInterrupted }
            #expect(trailing.count <= 1, "\(h.summary())")
            #expect(h.events(.engagementStarted).count == 1)
            #expect(await h.registry.streamState(stream) == .stopped)
        }
    }

    @Test("wss:// works with the simulator's CA trusted through zoom.ca_file")
    func tlsWithCAFile() async throws {
        try await RelayHarness.run(allowedHosts: ["localhost"], tls: true) { h in
            let engagement = await h.simulator.createEngagement()
            let started = try await h.simulator.startStream(engagementID: engagement)
            #expect(started.serverURL.hasPrefix("wss://"))
            try await h.waitForAudio(stream: started.streamID, perChannel: 10)
            try await h.simulator.stopStream(engagementID: engagement)
            try await h.waitFor(.streamStopped, stream: started.streamID)
            try await expectExactAudio(h, streamID: started.streamID)
        }
    }

    @Test("an abrupt close without any message or webhook is healed by a full reconnect")
    func abruptClose() async throws {
        try await RelayHarness.run { h in
            let engagement = await h.simulator.createEngagement()
            let stream = try await h.simulator.startStream(engagementID: engagement).streamID
            try await h.waitForAudio(stream: stream, perChannel: 10)
            try await h.simulator.abruptClose(engagementID: engagement)
            try await h.waitFor(.streamResumed, stream: stream)
            let target = (h.audio(stream: stream)["2"]?.count ?? 0) + 20
            try await h.waitForAudio(stream: stream, perChannel: target)
            try await h.simulator.stopStream(engagementID: engagement)
            try await h.waitFor(.streamStopped, stream: stream)
            try await Task.sleep(for: .milliseconds(300))
            try await expectExactAudio(h, streamID: stream)
        }
    }

    @Test("pause and resume through the REST path arrive as stream.paused / stream.unpaused; voice events are typed")
    func pauseResumeAndEvents() async throws {
        try await RelayHarness.run { h in
            let engagement = await h.simulator.createEngagement()
            let stream = try await h.simulator.startStream(engagementID: engagement).streamID
            try await h.waitForAudio(stream: stream, perChannel: 5)
            try await h.simulator.pauseStream(engagementID: engagement)
            try await h.waitFor(.streamPaused, stream: stream)
            #expect(await h.registry.streamState(stream) == .paused)
            try await h.simulator.resumeStream(engagementID: engagement)
            try await h.waitFor(.streamUnpaused, stream: stream)
            // The subscription made Zoom push the answered events; a hold arrives typed too.
            _ = try await h.simulator.sendVoiceEvent(engagementID: engagement, .userHold, channel: 0)
            try await waitUntil(timeout: .seconds(10), "USER_HOLD participant event") {
                h.events(.participant, stream: stream).contains { if case .participant(let p) = $0.kind { p.eventName == "USER_HOLD" && p.eventType == 12 } else { false } }
            }
            let answered = h.events(.participant, stream: stream).compactMap { if case .participant(let p) = $0.kind { p.eventName } else { nil } }
            #expect(answered.contains("CONSUMER_ANSWERED"))
            try await h.simulator.stopStream(engagementID: engagement)
            try await h.waitFor(.streamStopped, stream: stream)
            try await expectExactAudio(h, streamID: stream)
        }
    }

    @Test("on relay shutdown each stream gets STREAM_CLOSE_REQ, is closed and reported stopped with reason 20")
    func gracefulShutdown() async throws {
        let captured = Mutex<(String, RelayHarness)?>(nil)
        try await RelayHarness.run { h in
            let engagement = await h.simulator.createEngagement()
            let stream = try await h.simulator.startStream(engagementID: engagement).streamID
            try await h.waitForAudio(stream: stream, perChannel: 5)
            captured.withLock { $0 = (stream, h) }
        }
        let (stream, h) = try #require(captured.withLock { $0 })
        let stopped = h.events(.streamStopped, stream: stream)
        #expect(stopped.count == 1)
        if case .streamStopped(let reason)? = stopped.first?.kind { #expect(reason.code == 20) }
        let phase = await h.simulator.streamStatus(streamID: stream)?.phase
        #expect(phase == .stopped(.receiverRequestedClose), "the simulator saw STREAM_CLOSE_REQ")
    }

    @Test("forged or stale webhooks change nothing, over HTTP")
    func forgedWebhooks() async throws {
        try await RelayHarness.run { h in
            let endpoints = try await h.simulator.endpoints()
            let body = #"{"event":"contact_center.voice_rtms_started","event_ts":1,"payload":{"engagement_id":"FORGED","rtms_stream_id":"FORGEDSTREAM","server_urls":"\#(endpoints.signalingURLs[0])"}}"#
            let now = Int64(Date().timeIntervalSince1970)
            let forged = try await h.post(body: body, timestamp: String(now), signature: "v0=" + String(repeating: "a", count: 64))
            #expect(forged.0 == 401)
            #expect(forged.1 == #"{"error":"invalid webhook signature"}"#)
            let staleSignature = WebhookVerifier(secretToken: RelayHarness.webhookSecret).signature(timestamp: String(now - 301), body: Array(body.utf8))
            #expect(try await h.post(body: body, timestamp: String(now - 301), signature: staleSignature).0 == 401)
            let tampered = try await h.post(body: body.replacingOccurrences(of: "FORGED\"", with: "FORGEX\""), timestamp: String(now),
                signature: WebhookVerifier(secretToken: RelayHarness.webhookSecret).signature(timestamp: String(now), body: Array(body.utf8)))
            #expect(tampered.0 == 401)
            #expect(try await h.signedPost(body: "{nope").0 == 400)
            #expect(try await h.post(body: String(repeating: " ", count: 300_000), timestamp: String(now), signature: "v0=x").0 == 413)
            try await Task.sleep(for: .milliseconds(500))
            #expect(h.sink.events.isEmpty, "\(h.summary())")
            #expect(await h.registry.snapshot().isEmpty)
            #expect(h.ingest.activeStreamCount == 0)

            // The simulator's own url_validation goes through the same signed path.
            #expect(await h.simulator.validateWebhookEndpoint())
        }
    }

    @Test("a server_urls host outside rtms_allowed_hosts is refused and never contacted")
    func ssrfGuard() async throws {
        // A listener on another loopback address that counts every connection attempt.
        let (listener, accepted) = try await countingListener(host: "127.0.0.2")
        defer { listener.close(promise: nil) }
        let port = try #require(listener.localAddress?.port)
        try await RelayHarness.run { h in
            let body = #"{"event":"contact_center.voice_rtms_started","event_ts":7,"payload":{"engagement_id":"E-SSRF","rtms_stream_id":"S-SSRF","server_urls":"ws://127.0.0.2:\#(port)/signaling"}}"#
            #expect(try await h.signedPost(body: body).0 == 200)
            try await h.waitFor(.streamFailed, stream: "S-SSRF")
            try await Task.sleep(for: .milliseconds(300))
            #expect(accepted.withLockedValue { $0 } == 0)
            #expect(h.ingest.metrics.refusedServerHosts == 1)
            #expect(h.events(.streamStarted).isEmpty)
            #expect(await h.registry.streamState("S-SSRF") == .failed)
            // Zoom's stop for the refused stream still closes it in the registry, once.
            let stop = #"{"event":"contact_center.voice_rtms_stopped","event_ts":8,"payload":{"engagement_id":"E-SSRF","rtms_stream_id":"S-SSRF","stop_reason":25}}"#
            #expect(try await h.signedPost(body: stop).0 == 200)
            try await h.waitFor(.streamStopped, stream: "S-SSRF")
        }
    }

    @Test("TLS to an IP: relay and simulator stream over wss://127.0.0.1 with the CA file (no SNI, IP SAN checked)")
    func tlsToIPAddress() async throws {
        try await RelayHarness.run(allowedHosts: ["127.0.0.1"], tls: true, tlsHost: "127.0.0.1") { h in
            let engagement = await h.simulator.createEngagement()
            let started = try await h.simulator.startStream(engagementID: engagement)
            #expect(started.serverURL.hasPrefix("wss://127.0.0.1:"))
            try await h.waitFor(.streamConnected, stream: started.streamID)
            try await h.waitForAudio(stream: started.streamID, perChannel: 10)
        }
    }

    @Test("TLS to an IP: a certificate without an IP SAN for 127.0.0.1 is refused")
    func tlsToIPAddressNeedsIPSAN() async throws {
        try await RelayHarness.run(allowedHosts: ["127.0.0.1"], tls: true, tlsHost: "127.0.0.1", certificateHasIPSAN: false) { h in
            let engagement = await h.simulator.createEngagement()
            let stream = try await h.simulator.startStream(engagementID: engagement).streamID
            try await h.waitFor(.streamInterrupted, stream: stream)
            let reasons = h.events(.streamInterrupted, stream: stream).map { "\($0.kind)" }
            #expect(reasons.contains { $0.contains("failedToValidateHostname") }, "\(reasons)")
            try await Task.sleep(for: .seconds(1))
            #expect(h.events(.streamConnected, stream: stream).isEmpty)
        }
    }

    @Test("security #5: a NUL-byte host never reaches the unlisted address, and WSS:// never speaks plaintext")
    func ssrfBypasses() async throws {
        // 127.0.0.2 is not allow-listed: count every connection attempt there.
        let (unlisted, accepted) = try await countingListener(host: "127.0.0.2")
        defer { unlisted.close(promise: nil) }
        let unlistedPort = try #require(unlisted.localAddress?.port)
        // 127.0.0.1 is listed: record the first bytes each connection sends (plaintext would start with "GET ").
        let firstBytes = NIOLockedValueBox<[String]>([])
        let listed = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.pipeline.addHandler(FirstBytesRecorder(into: firstBytes))
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { listed.close(promise: nil) }
        let listedPort = try #require(listed.localAddress?.port)
        try await RelayHarness.run(allowedHosts: ["*.zoom.us", "127.0.0.1"]) { h in
            let nul = #"{"event":"contact_center.voice_rtms_started","event_ts":7,"payload":{"engagement_id":"E-NUL","rtms_stream_id":"S-NUL","server_urls":"ws://127.0.0.2\u0000.zoom.us:\#(unlistedPort)/signaling"}}"#
            #expect(try await h.signedPost(body: nul).0 == 200)
            try await h.waitFor(.streamFailed, stream: "S-NUL")
            let upper = #"{"event":"contact_center.voice_rtms_started","event_ts":8,"payload":{"engagement_id":"E-UP","rtms_stream_id":"S-UP","server_urls":"WSS://127.0.0.1:\#(listedPort)/upper"}}"#
            #expect(try await h.signedPost(body: upper).0 == 200)
            try await waitUntil(timeout: .seconds(10), "a connection to the listed listener") { !firstBytes.withLockedValue { $0 }.isEmpty }
            try await Task.sleep(for: .milliseconds(500))
            #expect(accepted.withLockedValue { $0 } == 0)
            let sent = firstBytes.withLockedValue { $0 }
            #expect(!sent.contains { $0.hasPrefix("GET ") }, "plaintext handshake sent for WSS://: \(sent)")
        }
    }

    @Test("security #14: a verified failover rtms_started naming a refused host is ignored; the live stream keeps streaming")
    func refusedFailoverKeepsStream() async throws {
        try await RelayHarness.run { h in
            let engagement = await h.simulator.createEngagement()
            let stream = try await h.simulator.startStream(engagementID: engagement).streamID
            try await h.waitFor(.streamConnected, stream: stream)
            try await h.waitForAudio(stream: stream, perChannel: 10)
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let failover = #"{"event":"contact_center.voice_rtms_started","event_ts":\#(now),"payload":{"engagement_id":"\#(engagement)","rtms_stream_id":"\#(stream)","server_urls":"wss://169.254.169.254/signaling"}}"#
            #expect(try await h.signedPost(body: failover).0 == 200)
            try await waitUntil(timeout: .seconds(10), "the refused failover to be counted") { h.ingest.metrics.refusedServerHosts == 1 }
            let before = h.audio(stream: stream)["1"]?.count ?? 0
            try await h.waitForAudio(stream: stream, perChannel: before + 25)
            #expect(h.events(.streamFailed, stream: stream).isEmpty)
            #expect(h.events(.streamInterrupted, stream: stream).isEmpty)
            #expect(await h.registry.streamState(stream) == .streaming)
        }
    }

    @Test("the engagement routes follow the original app's contract")
    func engagementRoutes() async throws {
        try await RelayHarness.run { h in
            let inactive = try await get(h, "/api/engagement/active")
            #expect(inactive == #"{"engagementId":null,"isActive":false}"# || inactive == #"{"isActive":false,"engagementId":null}"#)
            let engagement = await h.simulator.createEngagement()
            let stream = try await h.simulator.startStream(engagementID: engagement).streamID
            try await h.waitFor(.streamConnected, stream: stream)
            let active = try JSONSerialization.jsonObject(with: Data(try await get(h, "/api/engagement/active").utf8)) as? [String: Any]
            #expect(active?["isActive"] as? Bool == true)
            #expect(active?["engagementId"] as? String == engagement)
            #expect(active?["startedAt"] is String)
            let list = try JSONSerialization.jsonObject(with: Data(try await get(h, "/api/engagements").utf8)) as? [String: Any]
            let engagements = list?["engagements"] as? [[String: Any]]
            let streams = engagements?.first?["streams"] as? [[String: Any]]
            #expect(streams?.first?["streamId"] as? String == stream)
            #expect(streams?.first?["state"] as? String == "streaming")
            try await h.simulator.endEngagement(engagement)
            try await h.waitFor(.engagementEnded)
            try await h.waitFor(.streamStopped, stream: stream)
            let after = try JSONSerialization.jsonObject(with: Data(try await get(h, "/api/engagement/active").utf8)) as? [String: Any]
            #expect(after?["isActive"] as? Bool == false)
        }
    }
}

private func get(_ h: RelayHarness, _ path: String) async throws -> String {
    let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(h.relayPort)\(path)"), timeout: .seconds(10))
    return String(buffer: try await response.body.collect(upTo: 1 << 20))
}

/// Records the first bytes each accepted connection sends, as text, then closes it.
private final class FirstBytesRecorder: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let sink: NIOLockedValueBox<[String]>
    init(into sink: NIOLockedValueBox<[String]>) { self.sink = sink }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let text = String(decoding: buffer.readableBytesView.prefix(16), as: UTF8.self)
        sink.withLockedValue { $0.append(text) }
        context.close(promise: nil)
    }
}

/// A listener on `host` that counts every connection attempt and closes it at once.
private func countingListener(host: String) async throws -> (any Channel, NIOLockedValueBox<Int>) {
    let accepted = NIOLockedValueBox(0)
    let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .childChannelInitializer { channel in
            accepted.withLockedValue { $0 += 1 }
            return channel.close()
        }
        .bind(host: host, port: 0).get()
    return (listener, accepted)
}
