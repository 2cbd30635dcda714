import NIOConcurrencyHelpers

/// Caps open `GET /api/events` streams per caller and in all, so that one token cannot open thousands of feeds
/// (each message costs every open feed some work) and browsers cannot take the descriptors Zoom's
/// connections need.
final class EventStreamLimits: Sendable {
    let perCaller: Int
    let total: Int
    private let open = NIOLockedValueBox<(total: Int, byCaller: [String: Int])>((0, [:]))

    init(perCaller: Int, total: Int) {
        self.perCaller = perCaller
        self.total = total
    }

    /// A slot for one more stream of `caller`, or nil when a cap is reached.
    func open(for caller: String) -> Slot? {
        let granted = open.withLockedValue { state -> Bool in
            guard state.total < total, state.byCaller[caller, default: 0] < perCaller else { return false }
            state.total += 1
            state.byCaller[caller, default: 0] += 1
            return true
        }
        return granted ? Slot(limits: self, caller: caller) : nil
    }

    /// Open streams now, in all.
    var openStreams: Int { open.withLockedValue { $0.total } }

    fileprivate func close(_ caller: String) {
        open.withLockedValue { state in
            state.total -= 1
            let left = state.byCaller[caller, default: 1] - 1
            state.byCaller[caller] = left > 0 ? left : nil
        }
    }

    /// One open stream; `release()` gives it back (once, however often it is called).
    final class Slot: Sendable {
        private let limits: EventStreamLimits
        private let caller: String
        private let released = NIOLockedValueBox(false)

        fileprivate init(limits: EventStreamLimits, caller: String) {
            self.limits = limits
            self.caller = caller
        }

        func release() {
            let first = released.withLockedValue { done -> Bool in
                defer { done = true }
                return !done
            }
            if first { limits.close(caller) }
        }

        deinit { release() }
    }
}
