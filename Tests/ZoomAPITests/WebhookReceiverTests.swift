import RelayCore
import Testing
import ZoomAPI
import ZoomWebhooks

@Suite("POST /api/webhooks/zoom without HTTP")
struct WebhookReceiverTests {
    static let secret = "WEBHOOKSECRET"
    static let now: Int64 = 1_700_000_000
    let signer = WebhookVerifier(secretToken: secret)

    func makeReceiver(maxBodyBytes: Int = 4096) -> WebhookReceiver {
        WebhookReceiver(verifier: WebhookVerifier(secretToken: Self.secret, toleranceSeconds: 300), maxBodyBytes: maxBodyBytes)
    }

    func deliver(_ receiver: WebhookReceiver, _ body: String, timestamp: Int64 = now, now: Int64 = now, signature: String? = nil) -> WebhookResponse {
        let bytes = Array(body.utf8)
        let sig = signature ?? signer.signature(timestamp: String(timestamp), body: bytes)
        return receiver.handle(headers: ["X-Zm-Signature": sig, "x-zm-request-timestamp": String(timestamp)], body: bytes, now: now)
    }

    /// Everything the receiver yielded so far (finishes the stream).
    func drained(_ receiver: WebhookReceiver) async -> [ZoomWebhookEvent] {
        receiver.finish()
        var out: [ZoomWebhookEvent] = []
        for await event in receiver.events { out.append(event) }
        return out
    }

    static func started(ts: Int64 = 1, url: String = "wss://rtms.zoom.us/signal") -> String {
        #"{"event":"contact_center.voice_rtms_started","event_ts":\#(ts),"payload":{"engagement_id":"E1","rtms_stream_id":"S1","server_urls":"\#(url)"}}"#
    }

    @Test("url_validation is signed too and answers plainToken with its HMAC")
    func urlValidation() async {
        let receiver = makeReceiver()
        let response = deliver(receiver, #"{"event":"endpoint.url_validation","event_ts":1,"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"}}"#)
        #expect(response.status == 200)
        #expect(response.body == #"{"plainToken":"qgg8vlvZRS6UYooatFL8Aw","encryptedToken":"fce779df09b0556f146a1477525cbfd149be54ba2743a696387afecb49b8f886"}"#)
        let unsigned = deliver(receiver, #"{"event":"endpoint.url_validation","event_ts":1,"payload":{"plainToken":"x"}}"#, signature: "v0=bad")
        #expect(unsigned.status == 401)
        #expect(await drained(receiver).isEmpty)
    }

    @Test("a forged or stale webhook gets 401 and changes nothing")
    func forgedAndStale() async {
        let receiver = makeReceiver()
        #expect(deliver(receiver, Self.started(), signature: "v0=" + String(repeating: "0", count: 64)).status == 401)
        #expect(deliver(receiver, Self.started(), timestamp: Self.now - 301).status == 401)
        let body = Array(Self.started().utf8)
        #expect(receiver.handle(headers: [:], body: body, now: Self.now).status == 401)
        #expect(receiver.counters.unauthorized == 3)
        // The same event, properly signed, is still new: the refused ones left no dedupe entry behind.
        #expect(deliver(receiver, Self.started()).status == 200)
        #expect(await drained(receiver).count == 1)
    }

    @Test("a verified event is answered 200 and handed on once; Zoom's retries are answered but dropped")
    func dedupe() async {
        let receiver = makeReceiver()
        let first = deliver(receiver, Self.started(ts: 5))
        #expect(first == WebhookResponse(status: 200, body: #"{"received":true}"#))
        let retry = deliver(receiver, Self.started(ts: 5), timestamp: Self.now + 300, now: Self.now + 300)
        #expect(retry.status == 200)
        #expect(retry.body.contains("duplicate"))
        // A genuinely new started event for the same stream (failover) has a new event_ts and goes through.
        #expect(deliver(receiver, Self.started(ts: 6, url: "wss://rtms2.zoom.us/signal")).status == 200)
        let events = await drained(receiver)
        #expect(events == [
            .rtmsStarted(RTMSStreamDescriptor(product: .contactCenter, instanceID: "E1", streamID: "S1", serverURL: "wss://rtms.zoom.us/signal"), eventTs: 5),
            .rtmsStarted(RTMSStreamDescriptor(product: .contactCenter, instanceID: "E1", streamID: "S1", serverURL: "wss://rtms2.zoom.us/signal"), eventTs: 6),
        ])
        #expect(receiver.counters.duplicates == 1)
    }

    @Test("malformed JSON after a valid signature is 400")
    func malformed() async {
        let receiver = makeReceiver()
        #expect(deliver(receiver, "{not json").status == 400)
        #expect(deliver(receiver, #"{"payload":{}}"#).status == 400)
        #expect(deliver(receiver, #"[1,2]"#).status == 400)
        #expect(deliver(receiver, #"{"event":"endpoint.url_validation","payload":{}}"#).status == 400)
        #expect(await drained(receiver).isEmpty)
    }

    @Test("a body over the limit is 413 without being looked at")
    func tooLarge() async {
        let receiver = makeReceiver(maxBodyBytes: 64)
        let response = deliver(receiver, Self.started())
        #expect(response.status == 413)
        #expect(response.body.hasPrefix(#"{"error":"#))
        #expect(await drained(receiver).isEmpty)
    }

    @Test("unknown events are acknowledged and counted, not handed on")
    func unknownEvent() async {
        let receiver = makeReceiver()
        #expect(deliver(receiver, #"{"event":"meeting.participant_joined","event_ts":3,"payload":{}}"#).status == 200)
        #expect(receiver.counters.ignored == 1)
        #expect(await drained(receiver).isEmpty)
    }

    @Test("engagement, stop and interrupt events are typed; payload.object nesting is tolerated")
    func typedEvents() async {
        let receiver = makeReceiver()
        _ = deliver(receiver, #"{"event":"contact_center.engagement_started","event_ts":1,"payload":{"object":{"engagement_id":"E9"}}}"#)
        _ = deliver(receiver, #"{"event":"contact_center.voice_rtms_interrupted","event_ts":2,"payload":{"engagement_id":"E9","rtms_stream_id":"S9"}}"#)
        _ = deliver(receiver, #"{"event":"contact_center.voice_rtms_stopped","event_ts":3,"payload":{"engagement_id":"E9","rtms_stream_id":"S9","stop_reason":21}}"#)
        _ = deliver(receiver, #"{"event":"meeting.rtms_started","event_ts":4,"payload":{"meeting_uuid":"a/b+c==","rtms_stream_id":"S8","server_urls":"wss://x.zoom.us"}}"#)
        let events = await drained(receiver)
        #expect(events == [
            .engagementStarted(engagementID: "E9", payload: ["object": ["engagement_id": "E9"]], eventTs: 1),
            .rtmsInterrupted(product: .contactCenter, instanceID: "E9", streamID: "S9", eventTs: 2),
            .rtmsStopped(product: .contactCenter, instanceID: "E9", streamID: "S9", stopReason: 21, eventTs: 3),
            .rtmsStarted(RTMSStreamDescriptor(product: .meeting, instanceID: "a/b+c==", streamID: "S8", serverURL: "wss://x.zoom.us"), eventTs: 4),
        ])
    }
}
