import NIOConcurrencyHelpers

/// How long audio took from Zoom's timestamp on the frame to a sink having consumed it, in fixed buckets
/// (Prometheus style). One lock per batch, so the cost per frame is an add.
public final class LatencyHistogram: Sendable {
    /// Upper bounds of the buckets, in milliseconds; a last, unbounded bucket follows.
    public static let boundsMillis: [Int64] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000]

    /// Counts per bucket (not cumulative), the sum and the count.
    public struct Snapshot: Sendable, Hashable {
        public var buckets: [UInt64]
        public var sumMillis: Int64
        public var count: UInt64

        /// The upper bound of the bucket holding quantile `q` (0…1), or nil when empty; an estimate, as good as
        /// the buckets.
        public func quantileUpperBoundMillis(_ q: Double) -> Int64? {
            guard count > 0 else { return nil }
            let target = UInt64((Double(count) * q).rounded(.up))
            var seen: UInt64 = 0
            for (index, value) in buckets.enumerated() {
                seen += value
                if seen >= max(1, target) { return index < boundsMillis.count ? boundsMillis[index] : .max }
            }
            return .max
        }
    }

    private let state = NIOLockedValueBox(Snapshot(buckets: Array(repeating: 0, count: boundsMillis.count + 1), sumMillis: 0, count: 0))

    public init() {}

    /// Records the latency of every audio event in `events`, as of `nowMillis`.
    func observeAudio(in events: [StreamEvent], nowMillis: Int64) {
        state.withLockedValue { snapshot in
            for event in events {
                guard case .audio(let frame) = event.kind else { continue }
                let latency = max(0, nowMillis - frame.timestamp)
                var index = 0
                while index < Self.boundsMillis.count, latency > Self.boundsMillis[index] { index += 1 }
                snapshot.buckets[index] += 1
                snapshot.sumMillis += latency
                snapshot.count += 1
            }
        }
    }

    public var snapshot: Snapshot { state.withLockedValue { $0 } }
}
