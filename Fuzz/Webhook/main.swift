import Foundation
import FuzzSupport
import Logging
import RelayCore
import ZoomAPI
import ZoomWebhooks

/// Webhook bodies and signatures (docs/zoom-rtms.md, "Webhooks and their signature"): the input is one raw body, preceded by one byte that picks the
/// clock offset and which signature byte to alter. Checked for every input:
/// - `WebhookEnvelope.decode` either throws or gives an envelope whose payload survives encode → decode, and
///   whose typed event carries non-empty ids;
/// - the correct signature verifies; the same signature with one character changed, the body with one byte
///   changed, a timestamp outside the window and a signature taken from the input itself do not;
/// - `WebhookReceiver` answers a correctly signed body with 200 or 400 only, a retry as a duplicate, and a
///   `url_validation` with the HMAC of its token.

let secret = "WEBHOOKSECRET"
let verifier = WebhookVerifier(secretToken: secret)
let timestamp = "1700000000"
let sentAt: Int64 = 1_700_000_000
let quiet = Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() }

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzWebhook(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(bytes(data, size))
    let salt = input.byte()
    let body = input.rest()
    let now = sentAt + Int64(salt % 128) - 64

    checkEnvelope(body)
    checkSignatures(body, salt: salt, now: now)
    checkReceiver(body, now: now)
    return 0
}

func checkEnvelope(_ body: [UInt8]) {
    guard let envelope = try? WebhookEnvelope.decode(body) else { return }
    if let payload = envelope.payload {
        let encoded: Data
        do { encoded = try JSONEncoder().encode(payload) } catch { check(false, "a decoded payload does not encode: \(error)"); return }
        let again = try? JSONDecoder().decode(JSONValue.self, from: encoded)
        check(again == payload, "payload changed in encode → decode: \(payload) → \(String(decoding: encoded, as: UTF8.self))")
    }
    _ = envelope.dedupeKey
    switch envelope.typedEvent() {
    case .engagementStarted(let id, _, _), .engagementEnded(let id, _, _):
        check(!id.isEmpty, "engagement event without an engagement id")
    case .rtmsStarted(let stream, _):
        check(!stream.instanceID.isEmpty && !stream.streamID.isEmpty && !stream.serverURL.isEmpty, "rtms_started with an empty id or URL: \(stream)")
    case .rtmsInterrupted(_, let instance, let stream, _), .rtmsStopped(_, let instance, let stream, _, _):
        check(!instance.isEmpty && !stream.isEmpty, "rtms event with an empty id")
    case nil:
        break
    }
}

func checkSignatures(_ body: [UInt8], salt: UInt8, now: Int64) {
    let signature = verifier.signature(timestamp: timestamp, body: body)
    check((try? verifier.verify(signature: signature, timestamp: timestamp, body: body, now: now)) != nil, "the correct signature was refused")

    // One character of the signature changed (`v0=` prefix included).
    var altered = Array(signature.utf8)
    let position = Int(salt) % altered.count
    altered[position] = altered[position] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
    expectRefusal(.badSignature, signature: String(decoding: altered, as: UTF8.self), timestamp: timestamp, body: body, now: now)

    // One byte of the body changed.
    if !body.isEmpty {
        var changed = body
        changed[Int(salt) % changed.count] ^= 0x01
        expectRefusal(.badSignature, signature: signature, timestamp: timestamp, body: changed, now: now)
    }

    // Outside the replay window, on either side.
    expectRefusal(.staleTimestamp, signature: signature, timestamp: timestamp, body: body, now: sentAt + 301)
    expectRefusal(.staleTimestamp, signature: signature, timestamp: timestamp, body: body, now: sentAt - 301)

    // A signature and timestamp taken from the input: only the real HMAC may pass.
    let text = String(decoding: body, as: UTF8.self)
    let lines = text.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)
    if lines.count >= 2 {
        let forged = String(lines[0]), forgedTimestamp = String(lines[1])
        if (try? verifier.verify(signature: forged, timestamp: forgedTimestamp, body: body, now: now)) != nil {
            check(forged == verifier.signature(timestamp: forgedTimestamp, body: body), "a signature that is not the HMAC verified: \(forged)")
        }
    }
}

func expectRefusal(_ expected: WebhookVerifier.Failure, signature: String, timestamp: String, body: [UInt8], now: Int64) {
    do {
        try verifier.verify(signature: signature, timestamp: timestamp, body: body, now: now)
        check(false, "verification passed, expected \(expected) (signature \(signature))")
    } catch {
        check(error == expected, "expected \(expected), got \(error)")
    }
}

func checkReceiver(_ body: [UInt8], now: Int64) {
    let receiver = WebhookReceiver(verifier: verifier, maxBodyBytes: 65_536, logger: quiet)
    defer { receiver.finish() }
    let signature = verifier.signature(timestamp: timestamp, body: body)
    let first = receiver.handle(headers: ["X-Zm-Signature": signature, "x-zm-request-timestamp": timestamp], body: body, now: now)
    if body.count > 65_536 {
        check(first.status == 413, "an oversized body got \(first.status)")
        return
    }
    check(first.status == 200 || first.status == 400, "a correctly signed body got \(first.status): \(first.body)")
    guard first.status == 200, let envelope = try? WebhookEnvelope.decode(body) else {
        check(first.status == 400, "an undecodable body was accepted")
        return
    }
    if envelope.event == "endpoint.url_validation" {
        let answer = try? JSONDecoder().decode([String: String].self, from: Data(first.body.utf8))
        let plainToken = envelope.payload?["plainToken"]?.stringValue ?? ""
        check(answer == ["plainToken": plainToken, "encryptedToken": verifier.encryptedToken(plainToken: plainToken)],
              "url_validation answered \(first.body)")
        return
    }
    let retry = receiver.handle(signature: signature, timestamp: timestamp, body: body, now: now + 1)
    check(retry.status == 200 && retry.body.contains("duplicate"), "a retried delivery was not recognised as a duplicate: \(retry.body)")
    let counters = receiver.counters
    check(counters.accepted + counters.ignored == 1 && counters.duplicates == 1, "counters after one delivery and its retry: \(counters)")
}

runFuzzer(fuzzWebhook)
