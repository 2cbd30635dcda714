import Foundation
import FuzzSupport
import RelayCore
import ZoomAPI

/// `x-zoom-app-context` and the session token derived from it (docs/security.md, "Session tokens"). The first input byte picks the
/// additional authenticated data's length and which byte to alter; the rest is used three ways:
/// - as a header as received: `AppContext.decrypt` refuses it with an `AppContext.Failure`, unless it was really
///   sealed with the client secret, is fresh, and does not open with another secret;
/// - as the JSON plaintext Zoom seals: the sealed header decrypts to exactly what `JSONDecoder` makes of the
///   JSON (or is refused as `malformed` / `stale` by the documented rules), and with any one byte altered or
///   with another app's secret it is refused;
/// - as a session token (never verifies) and as a user id (issue → verify gives it back).

let secret = "client-secret-for-fuzzing"
let now: Int64 = 1_764_090_286_000
let maxAgeMillis: Int64 = 300_000
let signer = SessionToken.Signer(clientSecret: secret, lifetime: .seconds(60))

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzAppContext(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(bytes(data, size))
    let choice = input.byte()
    let aad = input.take(Int(choice % 8))
    let rest = input.rest()
    let text = String(decoding: rest, as: UTF8.self)

    checkReceivedHeader(text)
    checkSealed(rest, aad: aad, alter: Int(choice))
    checkSessionToken(text)
    return 0
}

func checkReceivedHeader(_ header: String) {
    do {
        // Only a header sealed with the secret gets through (the seed corpus holds one); the fuzzer cannot forge one.
        let context = try AppContext.decrypt(header: header, clientSecret: secret, now: now)
        check(isFresh(context), "a stale context was accepted: \(context)")
        check((try? AppContext.decrypt(header: header, clientSecret: "another-app", now: now)) == nil, "opened with another app's secret")
    } catch {
        check(error is AppContext.Failure, "not an AppContext.Failure: \(type(of: error)): \(error)")
    }
}

/// The documented freshness rule, computed independently of `decrypt`: `ts` within 5 minutes of now, `exp` not passed.
func isFresh(_ context: AppContext) -> Bool {
    abs(Double(now) - Double(context.ts)) <= Double(maxAgeMillis) && (context.exp.map { $0 >= now } ?? true)
}

func checkSealed(_ plaintext: [UInt8], aad: [UInt8], alter: Int) {
    let header: String
    do { header = try AppContext.encrypt(Data(plaintext), clientSecret: secret, aad: aad) } catch { check(false, "sealing failed: \(error)"); return }
    let expected: Result<AppContext, AppContext.Failure>
    if let context = try? JSONDecoder().decode(AppContext.self, from: Data(plaintext)) {
        expected = isFresh(context) ? .success(context) : .failure(.stale)
    } else {
        expected = .failure(.malformed("unexpected content"))
    }
    let actual = Result { () throws(AppContext.Failure) -> AppContext in
        do { return try AppContext.decrypt(header: header, clientSecret: secret, now: now) } catch let failure as AppContext.Failure { throw failure } catch {
            check(false, "not an AppContext.Failure: \(error)"); throw .decryptionFailed
        }
    }
    check(actual == expected, "sealed \(String(decoding: plaintext, as: UTF8.self).debugDescription): expected \(expected), got \(actual)")

    check((try? AppContext.decrypt(header: header, clientSecret: "another-app", now: now)) == nil, "opened with another app's secret")

    guard var sealed = Base64URL.decode(header).map(Array.init) else { check(false, "encrypt made invalid base64"); return }
    sealed[alter % sealed.count] ^= 0x01
    let tampered = (try? AppContext.decrypt(header: Data(sealed).base64EncodedString(), clientSecret: secret, now: now))
    check(tampered == nil, "a header with byte \(alter % sealed.count) altered decrypted to \(tampered!)")
}

func checkSessionToken(_ text: String) {
    check(signer.verify(text, now: now) == nil, "an input that was never issued verified as a session token: \(text.debugDescription)")
    let token = signer.issue(uid: text, aid: nil, now: now)
    check(signer.verify(token, now: now + 1_000) == SessionToken(uid: text, aid: nil, exp: now + 60_000), "issued token for uid \(text.debugDescription) did not verify")
}

runFuzzer(fuzzAppContext)
