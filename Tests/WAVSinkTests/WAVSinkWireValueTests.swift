import Foundation
import NIOCore
import RelayCore
import RelayTesting
import Testing
@testable import WAVSink

/// Events no correct ingest publishes (replay, custom code): the WAV sink must never trap and never open a file
/// per invented party. Ingest drops such timestamps first; these tests hand them to the sink directly.
@Suite("WAV sink: hostile numbers and channel ids in events", .serialized)
struct WAVSinkWireValueTests {
    let audio = DeterministicAudio()

    func frame(_ channel: String, timestamp: Int64, party: Int = 0, frame: Int = 0, format: AudioFormat? = nil) -> StreamEvent {
        var event = audio.event(engagement: "e1", stream: "s1", channel: channel, party: party, frame: frame)
        guard case .audio(var audioFrame) = event.kind else { return event }
        audioFrame.timestamp = timestamp
        if let format { audioFrame.format = format }
        event.kind = .audio(audioFrame)
        return event
    }

    @Test("security #3: huge, negative and far timestamps and a huge send_rate handed to the sink never trap; the file keeps the good audio and stays valid")
    func hostileNumbers() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (sink, _) = makeSink(directory: directory.path, mix: .stereo)
        let connected = StreamEvent(timeMillis: audio.origin, engagementID: "e1", streamID: "s1",
                                    kind: .streamConnected(MediaParameters(audio: audio.format, frameMilliseconds: 999_999_999_999_999_999)))
        try await sink.consume([connected, frame("agent", timestamp: 1000, frame: 0)])
        try await sink.consume([
            frame("agent", timestamp: 999_999_999_999_999_999, frame: 1),
            frame("agent", timestamp: .max, frame: 1),
            frame("caller", timestamp: -999_999_999_999_999_999, party: 1, frame: 0),
            frame("caller", timestamp: .min, party: 1, frame: 0),
            frame("agent", timestamp: 1000 + 30 * 24 * 3600 * 1000, frame: 1),
            frame("agent", timestamp: 1020, frame: 1),
            // A format no WAV file can hold: zero channels, a negative rate.
            frame("agent", timestamp: 1040, frame: 2, format: AudioFormat(sampleRate: -16_000, channels: 0)),
            frame("agent", timestamp: 1040, frame: 2, format: AudioFormat(sampleRate: .max, channels: .max)),
        ])
        try await sink.consume([stopped("e1", "s1")])
        let agent = try WAVContents(path: directory.path + "/e1/s1/agent.wav")
        #expect(agent.header.riffSize == agent.fileSize - 8)
        #expect(agent.data == audio.frameBytes(party: 0, frame: 0) + audio.frameBytes(party: 0, frame: 1))
        let manifest = try String(contentsOfFile: directory.path + "/e1/s1/stream.json", encoding: .utf8)
        #expect(manifest.contains(#""out_of_range_frames" : 3"#), "\(manifest)")
        #expect(manifest.contains(#""unsupported_frames" : 2"#), "\(manifest)")
        for file in ["caller.wav", "mixed.wav"] where FileManager.default.fileExists(atPath: directory.path + "/e1/s1/" + file) {
            let contents = try WAVContents(path: directory.path + "/e1/s1/" + file)
            #expect(contents.header.riffSize == contents.fileSize - 8, "\(file)")
            #expect(contents.fileSize < 1 << 20, "\(file): \(contents.fileSize) bytes")
        }
    }

    @Test("security #12: 50 invented channel ids give at most max_channels party files; the rest are counted in stream.json and logged once")
    func channelCap() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let context = SinkContext(id: "qa", logger: .init(label: "test"))
        let sink = WAVSink(options: WAVSinkOptions(directory: directory.path, maxChannels: 3), context: context)
        try await sink.consume((0..<50).map { frame("party-\($0)", timestamp: audio.timestamp(frame: 0), party: $0) })
        try await sink.consume((0..<50).map { frame("party-\($0)", timestamp: audio.timestamp(frame: 1), party: $0, frame: 1) })
        try await sink.consume([stopped("e1", "s1")])
        let files = filesUnder(directory.path + "/e1/s1").filter { $0.hasSuffix(".wav") }
        #expect(files == ["party-0.wav", "party-1.wav", "party-2.wav"])
        let manifest = try String(contentsOfFile: directory.path + "/e1/s1/stream.json", encoding: .utf8)
        #expect(manifest.contains(#""refused_channel_frames" : 94"#), "\(manifest)")
    }

    @Test("security #12: max_channels is read from the config, defaults to 8, and must be at least 1")
    func maxChannelsOption() throws {
        #expect(WAVSinkOptions().maxChannels == 8)
        let options = try ConfigLoader(registry: registry(), environment: [:])
            .parse(yaml: "sinks:\n  rec: {type: wav, max_channels: 2}\n", file: "t.yaml", environment: [:])
        #expect((options.sinks.first?.options as? WAVSinkOptions)?.maxChannels == 2)
        #expect(throws: (any Error).self) {
            try ConfigLoader(registry: registry(), environment: [:]).parse(yaml: "sinks:\n  rec: {type: wav, max_channels: 0}\n", file: "t.yaml", environment: [:])
        }
    }

    func registry() -> SinkRegistry {
        var registry = SinkRegistry()
        registry.register(WAVSink.self)
        return registry
    }
}
