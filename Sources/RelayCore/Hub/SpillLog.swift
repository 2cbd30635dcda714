/// A sink's on-disk overflow (`overflow: spill`): an append-only log of events, read oldest first and removed
/// only once the sink has consumed them, so what it holds survives a crash and is delivered by the next
/// `serve` before anything newer.
///
/// The mailbox calls it under its own lock, from one producer or the consumer at a time; an implementation
/// needs no locking of its own. The relay's is `SQLiteSpillLog` (module `SpillLog`). A class: the mailbox looks at
/// it on every put, and a class-bound existential is copied by a retain, not through its witness table.
public protocol SpillLog: AnyObject, Sendable {
    /// Events in the log.
    var count: Int { get }
    /// Bytes of the events in the log (what `spill_max_bytes` bounds).
    var bytes: Int64 { get }
    /// Appends `events` in order, as many as fit in `maxBytes` of events in the log; returns how many.
    func append(_ events: ArraySlice<StreamEvent>, maxBytes: Int64) throws -> Int
    /// Prepends `events` in order before everything in the log, all or none (a batch handed back unconsumed).
    func prepend(_ events: [StreamEvent]) throws
    /// The oldest `max` events, left in the log.
    func peek(max: Int) throws -> [StreamEvent]
    /// Removes the oldest `count` events.
    func removeFirst(_ count: Int) throws
}

/// Opens (or prepares to create) the spill log at a path.
public typealias SpillLogOpener = @Sendable (_ path: String) throws -> any SpillLog
