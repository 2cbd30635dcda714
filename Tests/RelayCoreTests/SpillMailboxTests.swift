import Foundation
import Logging
import NIOConcurrencyHelpers
@testable import RelayCore
import RelayTesting
import SpillLog
import Testing

/// `overflow: spill`: a sink's queue that goes on in a real SQLite file when memory is full or the sink is down,
/// and is delivered, in order, by the next mailbox opened on the same file (the next `serve` after a crash).
@Suite("SinkMailbox: spill to disk")
struct SpillMailboxTests {
    let directory: URL
    var path: String { directory.path + "/spill/sink.sqlite" }

    init() throws {
        directory = try RelayProcess.makeTemporaryDirectory()
    }

    func events(_ range: Range<Int>, origin: UInt64 = 0xabc) -> [StreamEvent] {
        range.map {
            var event = StreamEvent(seq: UInt64($0), engagementID: "e1", streamID: "s1", kind: .streamResumed(reason: "r", attempt: $0))
            event.origin = origin
            return event
        }
    }

    func seqs(_ events: [StreamEvent]) -> [Int] { events.map { Int($0.seq) } }

    func mailbox(capacity: Int, maxBytes: Int64 = QueuePolicy.defaultSpillMaxBytes, healthy: @escaping @Sendable () -> Bool = { true },
                 logger: Logger = Logger(label: "test")) throws -> (SinkMailbox, SQLiteSpillLog) {
        let log = try SQLiteSpillLog(path: path)
        let policy = QueuePolicy(capacity: capacity, overflow: .spill, spillMaxBytes: maxBytes)
        return (SinkMailbox(policy: policy, spill: log, sinkIsHealthy: healthy, logger: logger), log)
    }

    /// Takes and settles everything queued in memory and on disk, in batches of at most `max`.
    func drain(_ mailbox: SinkMailbox, max: Int = 1000) async -> [StreamEvent] {
        var all: [StreamEvent] = []
        while mailbox.depth > 0 || mailbox.spilled.events > 0, let delivery = await mailbox.next(max: max) {
            all += delivery.events
            mailbox.settle(consumed: true)
        }
        return all
    }

    @Test("what memory cannot hold goes to the file and comes back after it, in order; nothing is dropped")
    func overflowInOrder() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let (mailbox, log) = try mailbox(capacity: 5)
        #expect(!FileManager.default.fileExists(atPath: path), "the file is made on the first spill, not before")
        await mailbox.put(contentsOf: events(0..<3)[...])
        await mailbox.put(contentsOf: events(3..<20)[...])
        #expect(mailbox.depth == 5)
        #expect(mailbox.spilled.events == 15)
        #expect(log.bytes > 15 * 100)
        // While the file holds events, new ones go after them even though memory has room again.
        let first = await mailbox.next(max: 4)
        mailbox.settle(consumed: true)
        await mailbox.put(contentsOf: events(20..<22)[...])
        #expect(mailbox.spilled.events == 17)
        #expect(seqs(first?.events ?? []) + seqs(await drain(mailbox, max: 4)) == Array(0..<22))
        #expect(mailbox.dropped == 0)
        #expect(log.count == 0 && log.bytes == 0)
        // Emptied, the queue is in memory again.
        await mailbox.put(contentsOf: events(22..<24)[...])
        #expect(mailbox.depth == 2 && log.count == 0)
    }

    @Test("after a crash the next mailbox on the file delivers what was spilled before anything new, and a batch read but not settled again")
    func survivesRestart() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let (mailbox, _) = try mailbox(capacity: 3)
            await mailbox.put(contentsOf: events(0..<10)[...])
            _ = await mailbox.next(max: 3)  // the three in memory: lost with the process
            mailbox.settle(consumed: true)
            let unsettled = await mailbox.next(max: 2)  // read from the file; the process dies before it is settled
            #expect(seqs(unsettled?.events ?? []) == [3, 4])
        }
        let (mailbox, log) = try mailbox(capacity: 3)
        #expect(log.count == 7)
        await mailbox.put(contentsOf: events(100..<102, origin: 0xdef)[...])
        #expect(mailbox.depth == 0, "new events wait behind the spilled ones")
        let delivered = await drain(mailbox, max: 4)
        #expect(seqs(delivered) == Array(3..<10) + [100, 101])
        #expect(delivered.first?.id == "abc-3", "the stable id survives the file")
        #expect(delivered.last?.id == "def-101")
        #expect(delivered.map(\.type) == Array(repeating: .streamResumed, count: 9))
    }

    @Test("past spill_max_bytes new events are dropped, counted and logged once; the file drains and spills again")
    func bounded() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let capture = LogCapture()
        // Events 10..<100 all encode to the same length.
        let probe = try StreamEvent.jsonEncoder(pcm: .base64).encode(events(10..<11)[0])
        let (mailbox, log) = try mailbox(capacity: 2, maxBytes: Int64(probe.count) * 5, logger: capture.logger())
        await mailbox.put(contentsOf: events(10..<20)[...])
        await mailbox.put(contentsOf: events(20..<22)[...])
        #expect(mailbox.depth == 2)
        #expect(log.count == 5)
        #expect(mailbox.dropped == 5)
        #expect(capture.lines(containing: "spill log refused events").count == 1)
        #expect(capture.lines(containing: "spill_max_bytes").count == 1)
        #expect(seqs(await drain(mailbox)) == Array(10..<17))
        await mailbox.put(contentsOf: events(22..<30)[...])
        #expect(log.count == 5 && mailbox.dropped == 6)
        #expect(capture.lines(containing: "spill log refused events").count == 2, "a new episode is said again")
    }

    @Test("while the sink is degraded, the batch it holds and the memory queue move to the file, so a crash then loses none")
    func degradedSinkGoesToDisk() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let healthy = NIOLockedValueBox(true)
        do {
            let (mailbox, log) = try mailbox(capacity: 100) { healthy.withLockedValue { $0 } }
            await mailbox.put(contentsOf: events(0..<10)[...])
            let held = await mailbox.next(max: 4)  // the sink works on 0..<4 when its Redis dies
            #expect(seqs(held?.events ?? []) == [0, 1, 2, 3])
            healthy.withLockedValue { $0 = false }
            await mailbox.put(contentsOf: events(10..<12)[...])
            #expect(mailbox.depth == 0)
            #expect(log.count == 12)
        }
        healthy.withLockedValue { $0 = true }
        let (mailbox, _) = try mailbox(capacity: 100)
        #expect(seqs(await drain(mailbox)) == Array(0..<12))
    }

    @Test("a batch that fails during shutdown stays in the file, with the memory queue, for the next run")
    func failedAtShutdownIsKept() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let (mailbox, _) = try mailbox(capacity: 5)
            await mailbox.put(contentsOf: events(0..<8)[...])
            mailbox.close()
            let batch = await mailbox.next(max: 2)
            #expect(seqs(batch?.events ?? []) == [0, 1])
            mailbox.settle(consumed: false)
            mailbox.keepQueuedForNextRun()
            #expect(await mailbox.next(max: 10) == nil, "after close the file is left for the next run")
        }
        let (mailbox, _) = try mailbox(capacity: 5)
        #expect(seqs(await drain(mailbox)) == Array(0..<8))
    }

    @Test("an event the file cannot give back is dropped and counted; the rest flows")
    func damagedRow() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let (mailbox, _) = try mailbox(capacity: 1)
            await mailbox.put(contentsOf: events(0..<4)[...])
        }
        let damage = Process()
        damage.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        damage.arguments = ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE events SET event=X'7b' WHERE id=(SELECT MIN(id) FROM events)\"); c.commit()", path]
        try damage.run()
        damage.waitUntilExit()
        #expect(damage.terminationStatus == 0)
        let (mailbox, _) = try mailbox(capacity: 1)
        #expect(seqs(await drain(mailbox)) == [2, 3])
        #expect(mailbox.dropped == 1)
    }
}
