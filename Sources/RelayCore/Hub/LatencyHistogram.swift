import NIOConcurrencyHelpers

/// How long audio took from Zoom's timestamp on the frame to a sink having consumed it, in fixed buckets
/// (Prometheus style) plus the largest value seen. One lock per batch, so the cost per frame is an add.
public final class LatencyHistogram: Sendable {
    /// Upper bounds of the buckets, in milliseconds; a last, unbounded bucket follows. Fine around the
    /// 50 ms p99 target of BENCHMARKS.md, so `rtms-relay bench` can tell 20 ms from 45 ms.
    public static let boundsMillis: [Int64] = [1, 2, 3, 5, 7, 10, 15, 20, 30, 40, 50, 75, 100, 150, 200, 300, 500,
                                               1_000, 2_000, 5_000, 10_000]

    /// Counts per bucket (not cumulative), the sum, the count and the largest latency seen.
    public struct Snapshot: Sendable, Hashable {
        public var buckets: [UInt64]
        public var sumMillis: Int64
        public var count: UInt64
        /// The largest latency since the histogram started, or since the last `restartMaximum()`.
        public var maxMillis: Int64

        public static var empty: Snapshot {
            Snapshot(buckets: Array(repeating: 0, count: boundsMillis.count + 1), sumMillis: 0, count: 0, maxMillis: 0)
        }

        /// The upper bound of the bucket holding quantile `q` (0…1), or nil when empty; an estimate, as good as
        /// the buckets (and never above the maximum seen).
        public func quantileUpperBoundMillis(_ q: Double) -> Int64? {
            guard count > 0 else { return nil }
            let target = UInt64((Double(count) * q).rounded(.up))
            var seen: UInt64 = 0
            for (index, value) in buckets.enumerated() {
                seen += value
                if seen >= max(1, target) { return index < boundsMillis.count ? min(boundsMillis[index], maxMillis) : maxMillis }
            }
            return maxMillis
        }

        /// What was observed between `earlier` and this snapshot (the maximum stays this snapshot's).
        public func since(_ earlier: Snapshot) -> Snapshot {
            Snapshot(buckets: zip(buckets, earlier.buckets).map { $0 &- $1 }, sumMillis: sumMillis - earlier.sumMillis,
                     count: count &- earlier.count, maxMillis: maxMillis)
        }

        /// Both histograms as one (e.g. every sink's).
        public func adding(_ other: Snapshot) -> Snapshot {
            Snapshot(buckets: zip(buckets, other.buckets).map { $0 + $1 }, sumMillis: sumMillis + other.sumMillis,
                     count: count + other.count, maxMillis: max(maxMillis, other.maxMillis))
        }
    }

    private let state = NIOLockedValueBox(Snapshot.empty)

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
                if latency > snapshot.maxMillis { snapshot.maxMillis = latency }
            }
        }
    }

    /// Forgets the maximum, so the next one covers a fresh window (the benchmark's measurement window).
    func restartMaximum() {
        state.withLockedValue { $0.maxMillis = 0 }
    }

    public var snapshot: Snapshot { state.withLockedValue { $0 } }
}
