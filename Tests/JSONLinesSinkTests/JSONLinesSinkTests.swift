import Foundation
import JSONLinesSink
import Logging
import NIOCore
import RelayCore
import RelayTesting
import Testing

@Suite("JSON Lines sink")
struct JSONLinesSinkTests {
    func makeSink(_ yaml: String) throws -> (JSONLinesSink, URL) {
        let directory = try RelayProcess.makeTemporaryDirectory()
        var registry = SinkRegistry()
        registry.register(JSONLinesSink.self)
        let text = yaml.replacingOccurrences(of: "DIR", with: directory.path)
        let configuration = try ConfigLoader(registry: registry, environment: [:]).parse(yaml: text, file: "test.yaml", environment: [:])
        let settings = try #require(configuration.sinks.first)
        let sink = try registry.factory(for: "jsonl")!.makeSink(options: settings.options, context: SinkContext(id: settings.id, logger: Logger(label: "test")))
        return (try #require(sink as? JSONLinesSink), directory)
    }

    func events(_ count: Int, audioEvery: Int = 0) -> [StreamEvent] {
        (0..<count).map { index in
            if audioEvery > 0, index % audioEvery == 0 {
                return StreamEvent(seq: UInt64(index), engagementID: "e", streamID: "s", kind: .audio(AudioFrame(channel: "1", timestamp: Int64(index), pcm: ByteBuffer(repeating: 7, count: 640))))
            }
            return StreamEvent(seq: UInt64(index), engagementID: "e", streamID: "s", kind: .streamResumed(reason: "r", attempt: index))
        }
    }

    func lines(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test("every non-audio event becomes one JSON line in the stable form; audio is left out")
    func writesLines() async throws {
        let (sink, directory) = try makeSink("sinks:\n  log:\n    type: jsonl\n    path: DIR/sub/events.jsonl\n")
        try await sink.start()
        let batch = events(10, audioEvery: 3)
        #expect(!sink.interests.contains(.audio))  // the hub never hands it audio
        try await sink.consume(sink.interests.filter(batch))
        try await sink.finish()
        let written = try lines(directory.appendingPathComponent("sub/events.jsonl"))
        let expected = try batch.filter { $0.type != .audio }.map { String(decoding: try $0.jsonData(), as: UTF8.self) }
        #expect(written == expected)
    }

    @Test("audio: summary adds one line per frame with pcm_bytes and never the PCM")
    func audioSummary() async throws {
        let (sink, directory) = try makeSink("sinks:\n  log:\n    type: jsonl\n    path: DIR/events.jsonl\n    audio: summary\n")
        try await sink.start()
        try await sink.consume(events(6, audioEvery: 2))
        try await sink.finish()
        let written = try lines(directory.appendingPathComponent("events.jsonl"))
        #expect(written.count == 6)
        let audio = written.filter { $0.contains(#""type":"audio""#) }
        #expect(audio.count == 3)
        #expect(audio.allSatisfy { $0.contains(#""pcm_bytes":640"#) && !$0.contains(#""pcm":"#) })
    }

    @Test("the file rotates before it passes max_bytes and keeps max_files old files")
    func rotation() async throws {
        let (sink, directory) = try makeSink("sinks:\n  log:\n    type: jsonl\n    path: DIR/events.jsonl\n    max_bytes: 2048\n    max_files: 2\n")
        try await sink.start()
        for round in 0..<12 { try await sink.consume(events(8).map { var e = $0; e.seq = UInt64(round * 8) + e.seq; return e }) }
        try await sink.finish()
        let base = directory.appendingPathComponent("events.jsonl")
        for suffix in ["", ".1", ".2"] {
            let size = try FileManager.default.attributesOfItem(atPath: base.path + suffix)[.size] as? Int ?? 0
            #expect(size > 0 && size <= 2048, "events.jsonl\(suffix) is \(size) bytes")
        }
        #expect(!FileManager.default.fileExists(atPath: base.path + ".3"))
        // Nothing is lost within what is kept: the newest lines are in order across .1 and the live file.
        let kept = try lines(URL(fileURLWithPath: base.path + ".2")) + lines(URL(fileURLWithPath: base.path + ".1")) + lines(base)
        let seqs = kept.map { line in Int(line.firstMatch(of: /"seq":(\d+)/)!.1)! }
        #expect(seqs == Array((96 - seqs.count)..<96))
    }

    @Test("bad options are config errors naming the key", arguments: [
        ("sinks:\n  log:\n    type: jsonl\n", "test.yaml:2: missing key 'path' in sinks.log"),
        ("sinks:\n  log:\n    type: jsonl\n    path: x\n    max_bytes: 10\n", "test.yaml:5: sinks.log.max_bytes: must be at least 1024, not 10"),
        ("sinks:\n  log:\n    type: jsonl\n    path: x\n    audio: full\n", "test.yaml:5: sinks.log.audio: 'full' is not one of none, summary"),
    ])
    func badOptions(yaml: String, message: String) {
        #expect(throws: ConfigError.self) { try makeSink(yaml) }
        do { _ = try makeSink(yaml) } catch { #expect("\(error)" == message) }
    }
}
