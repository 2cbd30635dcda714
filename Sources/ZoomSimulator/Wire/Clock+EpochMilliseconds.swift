import Foundation

/// Wall-clock milliseconds since the epoch: RTMS timestamps, `event_ts` and audio frame times all use it.
func epochMilliseconds() -> Int64 {
    Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
}

extension Duration {
    /// The duration in whole milliseconds (for wire fields and frame arithmetic).
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
