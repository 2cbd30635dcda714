import Logging
import NIOConcurrencyHelpers
import RelayCore
import ZoomAPI
import ZoomWebhooks

/// Signs and checks everything instances share through Redis that makes an instance act: shared webhooks,
/// stream details (`{p}stream:*`) and relayed live events. With it, write access to Redis is not enough to
/// start, stop or redirect streams or to inject events into agents' pages; the attacker also needs `cluster.secret`.
///
/// Wire form: `rtms1.<sent_ms>.<hex HMAC-SHA256>.<payload>`. The MAC (`HMACHex`, the same primitive as Zoom's
/// signatures) covers the message's purpose (its channel or key), the send time and the payload, so a message
/// cannot be moved to another channel or key, and pub/sub messages older than `maxAge` are refused as replays.
struct ClusterMessageSigner: Sendable {
    /// Why a message was refused.
    enum Rejection: Error, CustomStringConvertible {
        case unsigned, badSignature, stale
        var description: String {
            switch self {
            case .unsigned: "unsigned"
            case .badSignature: "bad signature"
            case .stale: "too old (replayed?)"
            }
        }
    }

    private static let version = "rtms1"
    private let secret: String

    init(secret: Secret) {
        self.secret = secret.value
    }

    /// `payload` with its signature, for `purpose` (a channel or key name).
    func seal(_ payload: some Collection<UInt8>, purpose: String, nowMillis: Int64 = EventClock.nowMillis()) -> [UInt8] {
        let mac = HMACHex.sha256(key: secret, message: Self.signed(payload, purpose: purpose, millis: nowMillis))
        return Array("\(Self.version).\(nowMillis).\(mac).".utf8) + payload
    }

    /// The payload of a message sealed for `purpose`, or why it is refused. `maxAgeMillis` nil: no age limit.
    func open(_ message: [UInt8], purpose: String, maxAgeMillis: Int64?, nowMillis: Int64 = EventClock.nowMillis()) throws(Rejection) -> [UInt8] {
        let dot = UInt8(ascii: ".")
        let fields = message.split(separator: dot, maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 4, fields[0].elementsEqual(Self.version.utf8) else { throw Rejection.unsigned }
        guard fields[1].count <= 16, let millis = Int64(String(decoding: fields[1], as: UTF8.self)) else { throw Rejection.unsigned }
        let payload = Array(fields[3])
        let expected = HMACHex.sha256(key: secret, message: Self.signed(payload, purpose: purpose, millis: millis))
        guard HMACHex.constantTimeEquals(String(decoding: fields[2], as: UTF8.self), expected) else { throw Rejection.badSignature }
        if let maxAgeMillis, abs(nowMillis - millis) > maxAgeMillis { throw Rejection.stale }
        return payload
    }

    private static func signed(_ payload: some Collection<UInt8>, purpose: String, millis: Int64) -> [UInt8] {
        Array("\(version)\n\(purpose)\n\(millis)\n".utf8) + payload
    }
}

/// Counts refused cluster messages for `/health` (`cluster.counts.rejected_messages`) and logs them at most
/// once per `logInterval`, so a flood of forged messages cannot flood the log too.
final class ClusterRejections: Sendable {
    private struct State {
        var count: UInt64 = 0
        var lastLog: ContinuousClock.Instant?
        var sinceLog: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())
    private let context: SinkContext
    private let logInterval: Duration

    init(context: SinkContext, logInterval: Duration = .seconds(10)) {
        self.context = context
        self.logInterval = logInterval
        context.reportCount("rejected_messages", 0)
    }

    var count: UInt64 { state.withLockedValue { $0.count } }

    func record(_ rejection: ClusterMessageSigner.Rejection, where place: String, logger: Logger) {
        let now = ContinuousClock.now
        let (total, suppressed, log) = state.withLockedValue { state -> (UInt64, UInt64, Bool) in
            state.count += 1
            state.sinceLog += 1
            guard state.lastLog.map({ now - $0 >= logInterval }) ?? true else { return (state.count, 0, false) }
            defer { state.lastLog = now; state.sinceLog = 0 }
            return (state.count, state.sinceLog - 1, true)
        }
        context.reportCount("rejected_messages", total)
        if log {
            logger.warning("cluster message refused: check that every instance has the same cluster.secret, and who can write to Redis",
                           metadata: ["where": "\(place)", "why": "\(rejection)", "rejected_total": "\(total)", "suppressed_since_last_log": "\(suppressed)"])
        }
    }
}
