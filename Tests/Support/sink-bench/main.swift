// Measures what the WAV, SQLite and Redis sinks cost per audio frame, feeding them directly (no hub) in
// batches the size the hub hands over under load. Build with `swift build -c release --product sink-bench`.
// The Redis rows start their own redis-server (in memory) on a free loopback port.
//
// usage: sink-bench [DIRECTORY] [CALLS] [SECONDS] [ONLY]   (ONLY: run the rows whose name contains it)
import Foundation
import Logging
import RelayCore
import RedisSink
import RelayTesting
import SQLiteSink
import WAVSink

let arguments = Array(CommandLine.arguments.dropFirst())
let directory = arguments.first ?? NSTemporaryDirectory() + "sink-bench-\(getpid())"
let calls = arguments.count > 1 ? Int(arguments[1]) ?? 20 : 20
let seconds = arguments.count > 2 ? Int(arguments[2]) ?? 30 : 30
let audio = DeterministicAudio()
let batchSize = 256
let only = arguments.count > 3 ? arguments[3] : ""

/// Frames of `calls` two-party calls, interleaved the way a relay publishes them (20 ms of every call at a time).
func batches() -> [[StreamEvent]] {
    var events: [StreamEvent] = []
    let frames = seconds * 1000 / audio.frameMilliseconds
    let agent = (0..<frames).map { audio.event(engagement: "bench", stream: nil, channel: "agent", party: 0, frame: $0) }
    let customer = (0..<frames).map { audio.event(engagement: "bench", stream: nil, channel: "customer", party: 1, frame: $0) }
    for frame in 0..<frames {
        for call in 0..<calls {
            for var event in [agent[frame], customer[frame]] {
                event.engagementID = "e\(call)"
                event.streamID = "s\(call)"
                events.append(event)
            }
        }
    }
    return stride(from: 0, to: events.count, by: batchSize).map { Array(events[$0..<min($0 + batchSize, events.count)]) }
}

func measure(_ name: String, _ sink: @autoclosure () throws -> any Sink, _ input: [[StreamEvent]]) async throws {
    guard only.isEmpty || name.contains(only) else { return }
    let sink = try sink()
    try await sink.start()
    let frames = input.reduce(0) { $0 + $1.count }
    let clock = ContinuousClock()
    let tickInterval = sink.tickInterval ?? .seconds(1)
    var nextTick = clock.now + tickInterval
    let elapsed = try await clock.measure {
        for batch in input {
            try await sink.consume(batch)
            if sink.tickInterval != nil, clock.now >= nextTick {
                try await sink.tick()
                nextTick = clock.now + tickInterval
            }
        }
        try await sink.finish()
    }
    let micros = Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
    print(String(format: "%-28@ %8d frames  %7.3f s  %6.2f µs/frame  %9.0f frames/s", name as NSString, frames, micros / 1e6, micros / Double(frames), Double(frames) / (micros / 1e6)))
}

let input = batches()
let logger = Logger(label: "bench")
print("\(calls) calls × 2 parties × \(seconds) s of 20 ms frames, batches of \(batchSize), in \(directory)")
try await measure("wav mix=none", WAVSink(options: WAVSinkOptions(directory: directory + "/wav-none"), context: SinkContext(id: "wav", logger: logger)), input)
try await measure("wav mix=stereo", WAVSink(options: WAVSinkOptions(directory: directory + "/wav-stereo", mix: .stereo), context: SinkContext(id: "wav", logger: logger)), input)
try await measure("sqlite store_audio=false", SQLiteSink(options: SQLiteSinkOptions(path: directory + "/a.sqlite"), context: SinkContext(id: "db", logger: logger)), input)
try await measure("sqlite store_audio=true", SQLiteSink(options: SQLiteSinkOptions(path: directory + "/b.sqlite", storeAudio: true), context: SinkContext(id: "db", logger: logger)), input)
/// The same number of events as transcripts: what the Redis sink publishes and streams by default.
let transcripts = input.map { batch in
    batch.map { StreamEvent(seq: $0.seq, engagementID: $0.engagementID, streamID: $0.streamID, kind: .transcript(Transcript(channel: "agent", speaker: "Agent", text: "thank you for calling, how can I help you today?"))) }
}
if only.isEmpty || "redis".contains(only) || only.contains("redis") {
    for (name, batches) in [("json encoding alone, audio", input), ("json encoding alone, transcripts", transcripts)] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes = 0
        let elapsed = try ContinuousClock().measure { for batch in batches { for event in batch { bytes += try encoder.encode(event).count } } }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let count = batches.reduce(0) { $0 + $1.count }
        print(String(format: "%-28@ %8d events  %7.3f s  %6.2f µs/event  (%d bytes)", name as NSString, count, seconds, seconds * 1e6 / Double(count), bytes))
    }
    let redis = try await RedisServerProcess()
    let url = Secret(redis.url)
    try await measure("redis audio=false (drops)", RedisSink(options: RedisSinkOptions(url: url), context: SinkContext(id: "bus", logger: logger)), input)
    try await measure("redis audio=true", RedisSink(options: RedisSinkOptions(url: url, audio: true), context: SinkContext(id: "bus", logger: logger)), input)
    try await measure("redis transcripts", RedisSink(options: RedisSinkOptions(url: url), context: SinkContext(id: "bus", logger: logger)), transcripts)
    // The same through the hub, as the relay runs it: publish everything, wait until the sink has it.
    let hubContext = SinkContext(id: "bus", logger: logger)
    let hubSink = try RedisSink(options: RedisSinkOptions(url: url, keyPrefix: "hub:"), context: hubContext)
    let hub = EventHub(members: [EventHub.Member(id: "bus", typeName: RedisSink.typeName, policy: QueuePolicy(capacity: 1_000_000, overflow: .dropNewest), sink: hubSink, context: hubContext)], logger: logger)
    let count = transcripts.reduce(0) { $0 + $1.count }
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await hub.run() }
        let elapsed = try await ContinuousClock().measure {
            let start = ContinuousClock.now
            for batch in transcripts { for event in batch { await hub.publish(event) } }
            print("  published in \(ContinuousClock.now - start), \(hub.snapshot()[0].delivered) delivered by then")
            while hub.snapshot()[0].delivered < UInt64(count) { try await Task.sleep(for: .milliseconds(1)) }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(String(format: "%-28@ %8d events  %7.3f s  %6.2f µs/event  %9.0f events/s", "redis transcripts via hub" as NSString, count, seconds, seconds * 1e6 / Double(count), Double(count) / seconds))
        hub.close()
        try await group.waitForAll()
    }
    // Reference: the hub alone, with a sink that only keeps the events.
    let recording = RecordingSink()
    let referenceHub = EventHub(members: [EventHub.Member(id: "rec", typeName: RecordingSink.typeName, policy: QueuePolicy(capacity: 1_000_000, overflow: .dropNewest), sink: recording, context: SinkContext(id: "rec", logger: logger))], logger: logger)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await referenceHub.run() }
        let elapsed = try await ContinuousClock().measure {
            for batch in transcripts { for event in batch { await referenceHub.publish(event) } }
            while referenceHub.snapshot()[0].delivered < UInt64(count) { try await Task.sleep(for: .milliseconds(1)) }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(String(format: "%-28@ %8d events  %7.3f s  %6.2f µs/event  %9.0f events/s", "hub + in-memory sink (ref.)" as NSString, count, seconds, seconds * 1e6 / Double(count), Double(count) / seconds))
        referenceHub.close()
        try await group.waitForAll()
    }
    await redis.stop()
}
try? FileManager.default.removeItem(atPath: directory)
