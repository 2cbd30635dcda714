import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket

/// Sends the due media of every media connection of the simulator from one task.
///
/// A task and a timer per connection cost a thousand calls more CPU (timer wake-ups, dispatch's timer
/// machinery) than the frames themselves. Here one loop wakes four times per frame period and serves every
/// connection whose next frame time has come; each connection keeps its stream's own frame grid, so a frame
/// leaves at most a quarter period after its timestamp (what the relay's latency figures are measured from).
///
/// The frames of one connection are written straight to its channel in one event-loop task with a single
/// flush, instead of one async write each through the WebSocket writer (the async-channel handler in the
/// pipeline passes outbound writes through unchanged). A connection whose socket is not writable is skipped
/// until it is: its frames stay due in the stream (up to the buffer Zoom keeps), so a stalled client cannot
/// grow memory without bound and cannot hold up the others.
final class MediaPacer: Sendable {
    private struct Entry: Sendable {
        let link: ConnectionLink
        let stream: SimulatedStream
        let channel: any Channel
        let opcode: WebSocketOpcode
        /// Finished once the pacer wrote this connection's last frames.
        let done: AsyncStream<Void>.Continuation
        var next: ContinuousClock.Instant
    }

    private let entries = NIOLockedValueBox<[Int: Entry]>([:])
    private let period: Duration
    private let tick: Duration

    init(frameMilliseconds: Int) {
        period = .milliseconds(frameMilliseconds)
        tick = period / 4
    }

    /// Starts sending `link`'s media. The returned sequence finishes when the pacer is done with it (the stream
    /// detached the link, or `remove`), so a close frame can be sent after the last frames.
    func add(link: ConnectionLink, stream: SimulatedStream, channel: any Channel, encoding: SimulatorConfiguration.FrameEncoding) -> AsyncStream<Void> {
        let (done, continuation) = AsyncStream.makeStream(of: Void.self)
        let entry = Entry(link: link, stream: stream, channel: channel, opcode: encoding == .text ? .text : .binary, done: continuation,
                          next: gridPoint(after: .now, origin: stream.clockStart))
        entries.withLockedValue { $0[link.id] = entry }
        return done
    }

    /// Stops sending `linkID`'s media (its socket is gone).
    func remove(linkID: Int) {
        entries.withLockedValue { $0.removeValue(forKey: linkID) }?.done.finish()
    }

    /// Serves every connection until cancelled.
    func run() async {
        var next = ContinuousClock.now
        while !Task.isCancelled {
            next = next.advanced(by: tick)
            if next < ContinuousClock.now.advanced(by: .milliseconds(-200)) { next = .now }
            guard (try? await Task.sleep(until: next)) != nil else { break }
            let now = ContinuousClock.now
            let due = entries.withLockedValue { $0.values.filter { $0.next <= now } }
            for entry in due { await send(entry, now: now) }
        }
        let all = entries.withLockedValue { entries in
            defer { entries.removeAll() }
            return Array(entries.values)
        }
        for entry in all { entry.done.finish() }
    }

    private func send(_ entry: Entry, now: ContinuousClock.Instant) async {
        let channel = entry.channel
        guard channel.isActive else { return remove(linkID: entry.link.id) }
        var next = entry.next.advanced(by: period)
        if next <= now { next = gridPoint(after: now, origin: entry.stream.clockStart) }
        entries.withLockedValue { $0[entry.link.id]?.next = next }
        // Not writable: leave the frames due in the stream and try again next period.
        guard channel.isWritable else { return }
        guard let batch = await entry.stream.takeMedia(linkID: entry.link.id, now: .now) else { return remove(linkID: entry.link.id) }
        guard !batch.audio.isEmpty || !batch.transcripts.isEmpty else { return }
        let templates = AudioFrameTemplates.shared
        let allocator = channel.allocator
        var frames: [WebSocketFrame] = []
        frames.reserveCapacity(batch.audio.count + batch.transcripts.count)
        for item in batch.audio {
            let buffer = item.indices.count == 1
                ? templates.message(channel: item.channel, index: item.indices.lowerBound, timestamp: item.timestamp, allocator: allocator)
                : templates.message(channel: item.channel, indices: item.indices, timestamp: item.timestamp, allocator: allocator)
            frames.append(WebSocketFrame(fin: true, opcode: entry.opcode, data: buffer))
        }
        for buffer in batch.transcripts { frames.append(WebSocketFrame(fin: true, opcode: entry.opcode, data: buffer)) }
        let toWrite = frames
        channel.eventLoop.execute {
            for frame in toWrite.dropLast() { channel.write(frame, promise: nil) }
            channel.writeAndFlush(toWrite[toWrite.count - 1], promise: nil)
        }
    }

    /// The first point of the frame grid starting at `origin` that is later than `instant`.
    private func gridPoint(after instant: ContinuousClock.Instant, origin: ContinuousClock.Instant) -> ContinuousClock.Instant {
        origin.advanced(by: period * (Int(((instant - origin) / period).rounded(.down)) + 1))
    }
}
