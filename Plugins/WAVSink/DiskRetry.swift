/// Remembers that a file could not be written and when to try again, so a full or read-only disk costs one
/// failed system call per second instead of fifty per party, and writing resumes by itself once there is room.
struct DiskRetry {
    /// The error that is stopping writes, nil when writing works.
    private(set) var failure: WAVWriteError?
    private var retryAt: ContinuousClock.Instant?
    static let interval = Duration.seconds(1)

    /// False while waiting before the next attempt after a failure.
    func mayWrite(now: ContinuousClock.Instant) -> Bool {
        guard let retryAt else { return true }
        return now >= retryAt
    }

    mutating func failed(_ error: WAVWriteError, now: ContinuousClock.Instant) {
        failure = error
        retryAt = now + Self.interval
    }

    mutating func succeeded() {
        failure = nil
        retryAt = nil
    }
}
