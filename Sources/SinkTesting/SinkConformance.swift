import Logging
import NIOCore
import RelayCore

/// Drives a sink through the contract the `EventHub` holds it to (docs/writing-a-sink.md, "The `Sink`
/// protocol and its lifecycle"), for a sink author to call from a test:
///
/// ```swift
/// @Test func conforms() async throws {
///     let problems = await SinkConformance.check { context in try MySink(options: MySink.Options(), context: context) }
///     #expect(problems.isEmpty, "\(problems)")
/// }
/// ```
///
/// What it checks, each on a fresh sink from `makeSink`:
/// - start, batches in publish order, a tick (if the sink asks for ticks), finish;
/// - a restart: `start()` again after a failure, then more batches and a finish (the hub restarts a sink
///   that threw with `start()`);
/// - a finish straight after a batch, with no tick in between (nothing may be left unwritten for want of one);
/// - `interests` honoured: the sink gets only the kinds it asks for, as from the hub (and must ask for some, and
///   always the same);
/// - every event kind it asks for, including the ones added after the sink was written (`StreamEvent.Kind` has a case per
///   `EventType`; the sample below is built from `EventType.allCases`, so a new kind reaches the sink here first).
///
/// It reports what threw, and never judges what a sink wrote: that is the sink's own tests' job.
public enum SinkConformance {
    public static func check(
        id: String = "under_test", logger: Logger = Logger(label: "sink-conformance"),
        _ makeSink: @Sendable (SinkContext) throws -> any Sink
    ) async -> [String] {
        var problems: [String] = []
        func attempt(_ what: String, _ body: () async throws -> Void) async -> Bool {
            do {
                try await body()
                return true
            } catch {
                problems.append("\(what): \(error)")
                return false
            }
        }
        let all = sampleBatches()
        // Each sink gets the kinds it asks for, as from the hub; the hub reads `interests` once, so it must not change.
        func batches(for sink: any Sink) -> [[StreamEvent]] {
            let interests = sink.interests
            if sink.interests != interests { problems.append("interests: changed between two reads (\(interests), then \(sink.interests))") }
            if !EventType.allCases.contains(where: interests.contains) { problems.append("interests: asks for no event kind at all") }
            return all.map(interests.filter).filter { !$0.isEmpty }
        }

        // 1. The whole life, in order.
        if let sink = make(makeSink, id: id, logger: logger, &problems) {
            let batches = batches(for: sink)
            _ = await attempt("start") { try await sink.start() }
            for (index, batch) in batches.enumerated() {
                _ = await attempt("consume batch \(index + 1) of \(batches.count)") { try await sink.consume(batch) }
            }
            if sink.tickInterval != nil { _ = await attempt("tick") { try await sink.tick() } }
            _ = await attempt("finish") { try await sink.finish() }
        }
        // 2. A restart after a failure: start again, go on.
        if let sink = make(makeSink, id: id, logger: logger, &problems) {
            let batches = batches(for: sink)
            _ = await attempt("start") { try await sink.start() }
            _ = await attempt("consume before the restart") { try await sink.consume(batches.first ?? []) }
            _ = await attempt("start again (the hub's restart)") { try await sink.start() }
            _ = await attempt("consume after the restart") { try await sink.consume(Array(batches.dropFirst()).flatMap { $0 }) }
            _ = await attempt("finish after the restart") { try await sink.finish() }
        }
        // 3. A finish with the last batch just handed over, no tick in between.
        if let sink = make(makeSink, id: id, logger: logger, &problems) {
            let batches = batches(for: sink)
            _ = await attempt("start") { try await sink.start() }
            _ = await attempt("consume a batch then finish at once") { try await sink.consume(batches.flatMap { $0 }) }
            _ = await attempt("finish with a pending batch") { try await sink.finish() }
        }
        return problems
    }

    private static func make(_ makeSink: (SinkContext) throws -> any Sink, id: String, logger: Logger, _ problems: inout [String]) -> (any Sink)? {
        do {
            return try makeSink(SinkContext(id: id, logger: logger))
        } catch {
            problems.append("init: \(error)")
            return nil
        }
    }

    /// One call with an event of every kind, in three batches: the start, the middle (audio of two parties and
    /// everything else), the end.
    public static func sampleBatches(engagement: String = "conformance-eng", stream: String = "conformance-stream") -> [[StreamEvent]] {
        let audio = DeterministicAudio()
        var seq: UInt64 = 0
        func event(_ kind: StreamEvent.Kind, stream streamID: String? = stream) -> StreamEvent {
            seq += 1
            return StreamEvent(seq: seq, timeMillis: audio.origin + Int64(seq), engagementID: engagement, streamID: streamID, kind: kind)
        }
        func frame(_ party: Int, _ index: Int) -> StreamEvent {
            var frame = audio.event(engagement: engagement, stream: stream, channel: "party-\(party)", party: party, frame: index, userName: "Party \(party)")
            seq += 1
            frame.seq = seq
            return frame
        }
        var first: [StreamEvent] = [], middle: [StreamEvent] = [], last: [StreamEvent] = []
        for type in EventType.allCases {
            switch type {
            case .engagementStarted:
                first.append(event(.engagementStarted(payload: .object(["account_id": .string("acct"), "object": .object(["engagement_id": .string(engagement)])])), stream: nil))
            case .streamRequested: first.append(event(.streamRequested(action: .start, by: "operator")))
            case .streamStarted: first.append(event(.streamStarted(serverHost: "rtms.example")))
            case .streamConnected: first.append(event(.streamConnected(MediaParameters(audio: audio.format, frameMilliseconds: audio.frameMilliseconds))))
            case .audio:
                for index in 0..<25 { middle.append(frame(0, index)); middle.append(frame(1, index)) }
            case .audioGap: middle.append(event(.audioGap(AudioGap(channel: "party-1", fromTimestamp: audio.timestamp(frame: 25), durationMillis: 200, cause: .timestampJump))))
            case .transcript: middle.append(event(.transcript(Transcript(channel: "party-0", speaker: "Party 0", text: "Hello", start: audio.origin, end: audio.origin + 400))))
            case .participant: middle.append(event(.participant(ParticipantEvent(eventType: 8, eventName: "CONSUMER_ANSWERED", participant: .object(["channel_id": .string("party-1")])))))
            case .streamPaused: middle.append(event(.streamPaused))
            case .streamUnpaused: middle.append(event(.streamUnpaused))
            case .streamInterrupted: middle.append(event(.streamInterrupted(reason: "media socket closed", attempt: 1)))
            case .streamResumed: middle.append(event(.streamResumed(reason: "media socket closed", attempt: 1)))
            case .streamFailed: last.append(event(.streamFailed(statusCode: 7, message: "a failure of another stream"), stream: stream + "-failed"))
            case .streamStopped: last.append(event(.streamStopped(StopReason(code: 25, name: "STOP_BC_MANUAL_API_TRIGGERED"))))
            case .engagementEnded: last.append(event(.engagementEnded(payload: .object([:])), stream: nil))
            }
        }
        return [first, middle, last]
    }
}
