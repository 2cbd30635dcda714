import Foundation
import Logging
import RelayCore
import RelayTesting
import Synchronization
import Testing
@testable import WebSink

/// Reads messages from a subscription until `count` arrived, the stream ended, or `timeout` passed.
func collect(_ subscription: EventSubscription, count: Int, timeout: Duration = .seconds(5)) async -> [ServerSentEvent] {
    let box = Collected()
    await withTaskGroup(of: Void.self) { group in
        group.addTask {
            for await message in subscription.messages {
                let done = box.messages.withLock { $0.append(message); return $0.count >= count }
                if done { return }
            }
        }
        group.addTask { try? await Task.sleep(for: timeout) }
        await group.next()
        group.cancelAll()
    }
    return box.messages.withLock { $0 }
}

final class Collected: Sendable {
    let messages = Mutex<[ServerSentEvent]>([])
}

final class Counter: Sendable {
    let value = Mutex(0)
}

/// A web sink wired like the relay wires it.
func makeSink(_ configure: (inout WebSinkOptions) -> Void = { _ in }) throws -> WebSink {
    var options = WebSinkOptions()
    configure(&options)
    return try WebSink(options: options, context: SinkContext(id: "agent_page", logger: Logger(label: "test")))
}

let audio = DeterministicAudio()

/// stream.started, `frames` frames on each of two channels (interleaved as ZCC sends them), stream.stopped.
func call(engagement: String = "eng-1", stream: String = "s-1", frames: Int) -> [StreamEvent] {
    var events = [StreamEvent(engagementID: engagement, streamID: stream, kind: .streamStarted(serverHost: "127.0.0.1")),
                  audio.connected(engagement: engagement, stream: stream)]
    for frame in 0..<frames {
        events.append(audio.event(engagement: engagement, stream: stream, channel: "1", party: 0, frame: frame, userName: "Agent"))
        events.append(audio.event(engagement: engagement, stream: stream, channel: "2", party: 1, frame: frame, userName: "Caller"))
    }
    events.append(StreamEvent(engagementID: engagement, streamID: stream, kind: .streamStopped(StopReason(code: 1, name: "STOP_BC_HOST_TRIGGERED"))))
    return events
}

/// The `text` of a status message's JSON.
func statusText(_ message: ServerSentEvent) -> String? {
    guard message.event == "status", let object = try? JSONSerialization.jsonObject(with: Data(message.data.utf8)) as? [String: Any] else { return nil }
    return (object["text"] as? String).map { text in (object["channel"] as? String).map { "\(text) [\($0)]" } ?? text }
}

@Suite("web sink")
struct WebSinkTests {
    @Test("a message is id, event and data lines then a blank line; a heartbeat is a comment")
    func sseFormat() {
        #expect(ServerSentEvent(id: 7, event: "status", data: #"{"a":1}"#).encoded == "id: 7\nevent: status\ndata: {\"a\":1}\n\n")
        #expect(ServerSentEvent(id: 8, event: "x", data: "one\ntwo").encoded == "id: 8\nevent: x\ndata: one\ndata: two\n\n")
        #expect(ServerSentEvent.comment("heartbeat").encoded == ": heartbeat\n\n")
        #expect(ServerSentEvent(id: 1, event: "a\nb", data: "").encoded == "id: 1\nevent: a b\ndata: \n\n")
    }

    @Test("the web sink is an EventFeedSink whose feed is its broadcaster, for the HTTP server to find by type")
    func publishesSource() throws {
        let sink: any Sink = try makeSink()
        let feed = try #require((sink as? any EventFeedSink)?.feed)
        #expect(feed as AnyObject === (sink as? WebSink)?.broadcaster)
    }

    @Test("status lines say Starting, Received 50/100 audio chunks per channel, RTMS stopped, in order")
    func statusLinesAtTheRightCounts() async throws {
        let sink = try makeSink()
        let subscription = sink.broadcaster.subscribe(scope: .engagement("eng-1"), lastEventID: nil)
        try await sink.consume(call(frames: 120))
        let messages = await collect(subscription, count: 100, timeout: .milliseconds(300))
        let lines = messages.compactMap(statusText)
        #expect(lines == [
            "Starting RTMS connection", "RTMS connected (L16, 16 kHz, mono, 20 ms)",
            "Received 50 audio chunks [1]", "Received 50 audio chunks [2]",
            "Received 100 audio chunks [1]", "Received 100 audio chunks [2]",
            "RTMS stopped",
        ])
    }

    @Test("status_every_chunks sets the counter step")
    func statusEveryChunks() async throws {
        let sink = try makeSink { $0.statusEveryChunks = 10 }
        let subscription = sink.broadcaster.subscribe(scope: .all, lastEventID: nil)
        try await sink.consume(call(frames: 25))
        let lines = await collect(subscription, count: 100, timeout: .milliseconds(300)).compactMap(statusText)
        #expect(lines.filter { $0.hasPrefix("Received") } == [
            "Received 10 audio chunks [1]", "Received 10 audio chunks [2]", "Received 20 audio chunks [1]", "Received 20 audio chunks [2]",
        ])
    }

    @Test("every message has an increasing id; stream events carry the JSON form; no PCM ever reaches a browser")
    func idsAndNoPCM() async throws {
        let sink = try makeSink()
        let subscription = sink.broadcaster.subscribe(scope: .engagement("eng-1"), lastEventID: nil)
        let events = call(frames: 60)
        try await sink.consume(Array(events.dropLast(3)))
        try await sink.tick()
        try await sink.consume(Array(events.suffix(3)))
        let messages = await collect(subscription, count: 1000, timeout: .milliseconds(300))
        let ids = messages.compactMap(\.id)
        #expect(ids.count == messages.count)
        #expect(ids == ids.sorted() && Set(ids).count == ids.count)
        let types = messages.filter { $0.event == "stream" }.compactMap { try? StreamEvent.decode(json: Data($0.data.utf8)).type }
        #expect(types == [.streamStarted, .streamConnected, .streamStopped])
        let pcm = Base64.encode(audio.frameBytes(party: 0, frame: 3))
        #expect(!messages.contains { $0.data.contains("\"pcm\"") || $0.data.contains(pcm) })
        let levels = messages.filter { $0.event == "level" }
        #expect(levels.count == 2, "one from tick(), one with the final counts before RTMS stopped")
        let last = try #require(levels.last.flatMap { try JSONSerialization.jsonObject(with: Data($0.data.utf8)) as? [String: Any] })
        let channels = try #require(last["channels"] as? [[String: Any]])
        #expect(channels.map { $0["chunks"] as? Int } == [60, 60])
        #expect(channels.map { $0["user_name"] as? String } == ["Agent", "Caller"])
        #expect(channels.allSatisfy { ($0["rms"] as? Double ?? 0) > 0 && ($0["peak"] as? Double ?? 2) <= 1 })
    }

    @Test("levels go out from tick() only, so at most once per level_interval_ms, and only when audio arrived")
    func levelsAreThrottled() async throws {
        let sink = try makeSink()
        #expect(sink.tickInterval == .milliseconds(250))
        let subscription = sink.broadcaster.subscribe(scope: .all, lastEventID: nil)
        try await sink.consume(Array(call(frames: 100).dropLast()))
        try await sink.tick()
        try await sink.tick()
        let levels = await collect(subscription, count: 1000, timeout: .milliseconds(300)).filter { $0.event == "level" }
        #expect(levels.count == 1)
    }

    @Test("a level message nobody watching that engagement would receive is not built; its counts go on adding up")
    func unwatchedLevelsAreNotBuilt() async throws {
        let sink = try makeSink()
        // Someone is connected, but to another call: eng-1's levels have no reader.
        let elsewhere = sink.broadcaster.subscribe(scope: .engagement("eng-other"), lastEventID: nil)
        let events = call(frames: 60)
        try await sink.consume(Array(events.prefix(42)))  // started, connected, 20 frames of each party
        try await sink.tick()
        // The agent opens the page: the history, then the rest of the call.
        let watcher = sink.broadcaster.subscribe(scope: .engagement("eng-1"), lastEventID: nil)
        try await sink.consume(Array(events.dropFirst(42)))
        let messages = await collect(watcher, count: 1000, timeout: .milliseconds(300))
        // Every id was given to a message eng-1's watcher got: the unwatched tick built none.
        let ids = messages.compactMap(\.id)
        #expect(!ids.isEmpty && ids == Array(1...UInt64(ids.count)))
        let levels = messages.filter { $0.event == "level" }
        #expect(levels.count == 1, "the final counts before RTMS stopped")
        let last = try #require(levels.last.flatMap { try JSONSerialization.jsonObject(with: Data($0.data.utf8)) as? [String: Any] })
        #expect((last["channels"] as? [[String: Any]])?.map { $0["chunks"] as? Int } == [60, 60])
        #expect(await collect(elsewhere, count: 1, timeout: .milliseconds(100)).isEmpty)
    }

    @Test("Last-Event-ID resumes after that id from the replay buffer; a new page gets the engagement's history")
    func lastEventIDResume() async throws {
        let sink = try makeSink()
        try await sink.consume(call(frames: 60))
        let all = await collect(sink.broadcaster.subscribe(scope: .engagement("eng-1"), lastEventID: nil), count: 1000, timeout: .milliseconds(300))
        #expect(all.compactMap(statusText).first == "Starting RTMS connection")
        let cut = try #require(all[3].id)
        let resumed = await collect(sink.broadcaster.subscribe(scope: .engagement("eng-1"), lastEventID: cut), count: 1000, timeout: .milliseconds(300))
        #expect(resumed.map(\.id) == all.dropFirst(4).map(\.id))
        let upToDate = await collect(sink.broadcaster.subscribe(scope: .engagement("eng-1"), lastEventID: all.last!.id), count: 1, timeout: .milliseconds(200))
        #expect(upToDate.isEmpty)
    }

    @Test("a browser that resumes after the replay buffer moved on is told it missed messages")
    func resumeAfterEviction() async throws {
        let sink = try makeSink { $0.replayBuffer = 3 }
        try await sink.consume(call(frames: 0))
        try await sink.consume(call(stream: "s-2", frames: 0))
        let resumed = await collect(sink.broadcaster.subscribe(scope: .engagement("eng-1"), lastEventID: 1), count: 100, timeout: .milliseconds(300))
        #expect(resumed.first.flatMap(statusText)?.hasPrefix("Some earlier messages") == true)
        #expect(resumed.count == 4)
    }

    @Test("?engagement= filters: a page sees only its engagement; without it, all")
    func filterByEngagement() async throws {
        let sink = try makeSink()
        let mine = sink.broadcaster.subscribe(scope: .engagement("eng-A"), lastEventID: nil)
        let everything = sink.broadcaster.subscribe(scope: .all, lastEventID: nil)
        try await sink.consume(call(engagement: "eng-A", stream: "a", frames: 0) + call(engagement: "eng-B", stream: "b", frames: 0))
        let a = await collect(mine, count: 1000, timeout: .milliseconds(300))
        let all = await collect(everything, count: 1000, timeout: .milliseconds(300))
        #expect(!a.isEmpty && a.allSatisfy { $0.data.contains(#""engagement_id":"eng-A""#) })
        #expect(all.count == 2 * a.count)
    }

    @Test("a stalled browser is dropped when its queue is full, while another keeps receiving everything")
    func stalledClientDropped() async throws {
        let broadcaster = EventBroadcaster(replayCapacity: 100, clientBuffer: 10)
        let stalled = broadcaster.subscribe(scope: .all, lastEventID: nil)
        let reader = broadcaster.subscribe(scope: .all, lastEventID: nil)
        let received = Counter()
        let readerTask = Task {
            for await _ in reader.messages { received.value.withLock { $0 += 1 } }
        }
        for index in 1...50 {
            broadcaster.publish(event: "status", data: "\(index)", engagement: "e")
            // Keep the live reader within its queue, as a healthy browser is.
            if index % 5 == 0 { try await waitUntil(timeout: .seconds(5), "reader to catch up") { received.value.withLock { $0 } == index } }
        }
        #expect(received.value.withLock { $0 } == 50)
        #expect(broadcaster.disconnectedSlowClients == 1)
        #expect(broadcaster.subscriberCount == 1)
        // The stalled one gets what fitted in its queue, then its stream ends (the route closes the connection).
        var stalledMessages: [String] = []
        for await message in stalled.messages { stalledMessages.append(message.data) }
        #expect(stalledMessages == (1...10).map(String.init))
        broadcaster.close()
        await readerTask.value
        #expect(broadcaster.subscriberCount == 0)
    }

    @Test("heartbeats go to every open stream; a closed browser is forgotten; close() ends every stream")
    func heartbeatAndClose() async throws {
        let sink = try makeSink { $0.heartbeatSeconds = 0.01 }
        let one = sink.broadcaster.subscribe(scope: .engagement("x"), lastEventID: nil)
        let two = sink.broadcaster.subscribe(scope: .all, lastEventID: nil)
        try await Task.sleep(for: .milliseconds(20))
        try await sink.tick()
        #expect(await collect(one, count: 1).map(\.encoded) == [": heartbeat\n\n"])
        #expect(await collect(two, count: 1).map(\.encoded) == [": heartbeat\n\n"])
        two.cancel()
        #expect(sink.broadcaster.subscriberCount == 1)
        try await sink.finish()
        #expect(sink.broadcaster.subscriberCount == 0)
        // The open stream itself ends (an idle one would only time out).
        let ended = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in one.messages {}
                return true
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(5))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(ended, "close() left a subscriber's stream open")
    }

    @Test("options: defaults, and values out of range are refused with the key")
    func options() throws {
        let defaults = WebSinkOptions()
        #expect(defaults.statusEveryChunks == 50 && defaults.heartbeatSeconds == 15 && defaults.levelIntervalMilliseconds == 250)
        var bad = WebSinkOptions()
        bad.levelIntervalMilliseconds = 10
        #expect(throws: OptionError.self) { try bad.validate() }
    }
}
