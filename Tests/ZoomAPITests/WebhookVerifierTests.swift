import Testing
import ZoomAPI
import ZoomWebhooks

@Suite("Webhook signature (docs/zoom-rtms.md, \"Webhooks and their signature\")")
struct WebhookVerifierTests {
    static let body = #"{"event":"contact_center.voice_rtms_started","event_ts":1626230691572,"payload":{"engagement_id":"LjjdDBo5SkGneP8qY4SvuQ","rtms_stream_id":"609340fb2a7946909659956c8aa9250c","server_urls":"wss://127.0.0.1:8443/signal"}}"#
    static let vector = "v0=245914316bd5b53337ecf599e4378fcd0d7c7e21e741f6544aedb8c639e42024"
    let verifier = WebhookVerifier(secretToken: "WEBHOOKSECRET", toleranceSeconds: 300)

    @Test("the reference event-signature test vector verifies")
    func referenceVector() throws {
        #expect(verifier.signature(timestamp: "1700000000", body: Array(Self.body.utf8)) == Self.vector)
        try verifier.verify(signature: Self.vector, timestamp: "1700000000", body: Array(Self.body.utf8), now: 1_700_000_100)
    }

    @Test("the reference url_validation vector gives the documented encryptedToken")
    func urlValidationVector() {
        #expect(verifier.encryptedToken(plainToken: "qgg8vlvZRS6UYooatFL8Aw") == "fce779df09b0556f146a1477525cbfd149be54ba2743a696387afecb49b8f886")
    }

    @Test("the handshake signature test vectors match (docs/zoom-rtms.md, \"Signaling handshake\")")
    func handshakeVectors() {
        #expect(RTMSSignature.compute(clientID: "CLIENTID", clientSecret: "SECRET", instanceID: "MEETINGUUID==", streamID: "STREAMID123")
            == "7a620ca0d90233b74a88466a889925de2b81d3d78c3a2ee421b43ea2f33d012f")
        #expect(RTMSSignature.compute(clientID: "CLIENTID", clientSecret: "SECRET", instanceID: "LjjdDBo5SkGneP8qY4SvuQ", streamID: "609340fb2a7946909659956c8aa9250c")
            == "eebd026adcbb0f56dd7f136794323a7d92955b1aafbb2ffa0ae9c3247e5007bc")
    }

    @Test("a body changed by one byte is refused")
    func tamperedBody() {
        var body = Array(Self.body.utf8)
        body[body.count - 3] ^= 1
        #expect(throws: WebhookVerifier.Failure.badSignature) {
            try verifier.verify(signature: Self.vector, timestamp: "1700000000", body: body, now: 1_700_000_000)
        }
    }

    @Test("a timestamp outside the window is refused even with a valid signature", arguments: [1_700_000_301, 1_699_999_699])
    func staleTimestamp(now: Int64) {
        #expect(throws: WebhookVerifier.Failure.staleTimestamp) {
            try verifier.verify(signature: Self.vector, timestamp: "1700000000", body: Array(Self.body.utf8), now: now)
        }
    }

    @Test("missing or malformed headers are refused")
    func missingHeaders() {
        let body = Array(Self.body.utf8)
        #expect(throws: WebhookVerifier.Failure.missingSignature) { try verifier.verify(signature: nil, timestamp: "1700000000", body: body, now: 1_700_000_000) }
        #expect(throws: WebhookVerifier.Failure.missingTimestamp) { try verifier.verify(signature: Self.vector, timestamp: nil, body: body, now: 1_700_000_000) }
        #expect(throws: WebhookVerifier.Failure.malformedTimestamp) { try verifier.verify(signature: Self.vector, timestamp: "17e8", body: body, now: 1_700_000_000) }
        #expect(throws: WebhookVerifier.Failure.badSignature) { try verifier.verify(signature: "v0=00", timestamp: "1700000000", body: body, now: 1_700_000_000) }
    }

    @Test("an empty secret refuses everything")
    func emptySecret() {
        let open = WebhookVerifier(secretToken: "")
        #expect(throws: WebhookVerifier.Failure.secretNotConfigured) {
            try open.verify(signature: Self.vector, timestamp: "1700000000", body: Array(Self.body.utf8), now: 1_700_000_000)
        }
    }
}
