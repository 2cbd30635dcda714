import NIOConcurrencyHelpers
import RelayCore

/// A sink that keeps every event it is given, for tests: `await sink.expectEvents(count:timeout:)`.
///
/// It can also be told to stall (to prove a slow sink holds nobody else back) or to throw (to prove the
/// hub restarts it).
public final class RecordingSink: SinkPlugin {
    public static let typeName = "recording"
    public static let summary = "keeps every event in memory (tests only)"

    /// `stalled: true` makes `consume` wait for `release()`.
    public struct Options: SinkOptions {
        public enum CodingKeys: String, CodingKey, Sendable { case stalled }
        public static let stalledOption = SinkOption(CodingKeys.stalled, "bool", default: false, "wait for release() before consuming")
        public static let documentation = [stalledOption.documentation]

        public var stalled: Bool
        public init(from decoder: any Decoder) throws {
            stalled = try decoder.container(keyedBy: CodingKeys.self).decode(Self.stalledOption)
        }
    }

    /// Built from config; a test finds it with `Relay.sink(_:as:)`.
    public convenience init(options: Options, context: SinkContext) throws {
        self.init(stalled: options.stalled, context: context)
    }

    private struct State {
        var events: [StreamEvent] = []
        var starts = 0
        var finished = false
        var failNextConsume: (any Error)?
    }

    private let state = NIOLockedValueBox(State())
    private let gate: Gate?
    private let context: SinkContext?

    /// The kinds it asks the hub for (`Sink.interests`).
    public let interests: EventInterests

    /// - Parameters:
    ///   - stalled: when true, `consume` waits until `release()` is called.
    ///   - interests: the kinds it asks the hub for.
    public init(stalled: Bool = false, interests: EventInterests = .all, context: SinkContext? = nil) {
        self.interests = interests
        gate = stalled ? Gate() : nil
        self.context = context
    }

    /// Reports health as a real sink would (only for sinks built with a context).
    public func reportHealth(_ health: SinkHealth) {
        context?.reportHealth(health)
    }

    public func start() async throws {
        state.withLockedValue { $0.starts += 1 }
    }

    public func consume(_ events: [StreamEvent]) async throws {
        if let gate { await gate.wait() }
        try state.withLockedValue { state in
            if let error = state.failNextConsume {
                state.failNextConsume = nil
                throw error
            }
            state.events.append(contentsOf: events)
        }
    }

    public func finish() async throws {
        state.withLockedValue { $0.finished = true }
    }

    /// Lets a stalled sink go on.
    public func release() async {
        await gate?.open()
    }

    /// Makes the next `consume` throw `error`.
    public func failNextConsume(with error: any Error) {
        state.withLockedValue { $0.failNextConsume = error }
    }

    /// Everything received so far.
    public var events: [StreamEvent] { state.withLockedValue { $0.events } }
    /// How many times the hub called `start()`.
    public var starts: Int { state.withLockedValue { $0.starts } }
    /// Whether `finish()` ran.
    public var finished: Bool { state.withLockedValue { $0.finished } }

    /// Waits until at least `count` events arrived (polling), or throws after `timeout`.
    @discardableResult
    public func expectEvents(count: Int, timeout: Duration = .seconds(10)) async throws -> [StreamEvent] {
        try await waitUntil(timeout: timeout, "\(count) events (have \(events.count))") { self.events.count >= count }
        return events
    }
}

/// Polls `condition` every 10 ms until it holds, or throws `TimeoutError` after `timeout`.
public func waitUntil(timeout: Duration = .seconds(10), _ what: @autoclosure () -> String = "condition", _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        if ContinuousClock.now >= deadline { throw TimeoutError(what: what()) }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// A wait in a test that ran out of time.
public struct TimeoutError: Error, CustomStringConvertible {
    public var what: String
    public init(what: String) { self.what = what }
    public var description: String { "timed out waiting for \(what)" }
}

/// A one-shot gate: `wait()` suspends until `open()`.
actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters.removeAll()
    }
}
