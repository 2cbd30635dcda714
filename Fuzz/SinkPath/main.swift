#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import FuzzSupport
import Logging
import NIOCore
import RelayCore
import RTMSIngest
import SQLiteSink
import WAVSink
import WebSink

/// RTMS frames through the sinks: the input is a flag byte, then WebSocket messages separated by newlines. Each
/// message is parsed by `RTMSMessageParser`; the media handshake, audio, transcripts, participant events and a
/// terminating stream state become the `StreamEvent`s ingest would publish, and go through the real WAV, SQLite
/// and web sinks writing into a fresh temporary directory. Flag bits:
/// - bit 0: check timestamps and media parameters as ingest does (`AudioTimestampGate`, `mediaParameters`);
///   clear, the numbers reach the sinks unchecked, as from replay or a custom event source: the sinks must
///   survive that too;
/// - bit 1: the WAV sink also writes `mixed.wav`; bits 2–4: `max_channels` − 1; bit 5: a second stream.
/// Checked: nothing crashes; with ingest's checks every published timestamp passes `RTMSWireLimits`; after
/// `finish()` every WAV file has a consistent header and no stream has more than `max_channels` party files.

/// Process-wide constants (static, so nonisolated: top-level variables would belong to the main actor).
enum Run {
    static let logger = Logger(label: "fuzz-sink-path") { _ in SwiftLogNoOpLogHandler() }
    static let scratch = NSTemporaryDirectory() + "fuzz-sink-path-\(getpid())"
}

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzSinkPath(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(bytes(data, size))
    let flags = input.byte()
    let events = Events(flags: flags, messages: input.rest().split(separator: 0x0A, omittingEmptySubsequences: true).map(Array.init))
    let done = DispatchSemaphore(value: 0)
    Task {
        await drive(events)
        done.signal()
    }
    done.wait()
    return 0
}

/// The events ingest would publish for the input's messages.
struct Events: Sendable {
    var list: [StreamEvent] = []
    let checked: Bool
    let mix: WAVSinkOptions.Mix
    let maxChannels: Int

    init(flags: UInt8, messages: [[UInt8]]) {
        checked = flags & 1 != 0
        mix = flags & 2 != 0 ? .stereo : .none
        maxChannels = Int((flags >> 2) & 7) + 1
        var gate = AudioTimestampGate()
        var media = MediaParameters()
        var seq: UInt64 = 0
        func add(_ kind: StreamEvent.Kind, stream: String) {
            seq += 1
            list.append(StreamEvent(seq: seq, timeMillis: 1_764_000_000_000 + Int64(seq), engagementID: "eng", streamID: stream, kind: kind))
        }
        add(.streamStarted(serverHost: "fuzz"), stream: "s1")
        for (index, message) in messages.enumerated() {
            let stream = flags & 32 != 0 && index % 2 == 1 ? "s2" : "s1"
            guard let parsed = try? RTMSMessageParser.parse(ByteBuffer(bytes: message)) else { continue }
            switch parsed {
            case .dataHandshake(let response):
                if checked {
                    media = response.mediaParameters(requested: MediaParameters())
                } else {
                    let audio = response.audio
                    media = MediaParameters(audio: AudioFormat(sampleRate: audio?.sampleRate.map { RTMSAudioSampleRate(rawValue: $0)?.hertz ?? $0 } ?? 16_000,
                                                               channels: audio?.channel ?? 1, codec: "L16"),
                                            frameMilliseconds: audio?.sendRate ?? 20)
                }
                add(.streamConnected(media), stream: stream)
            case .audio(let packet):
                if checked {
                    guard gate.admit(packet.timestamp) else { continue }
                    check(RTMSWireLimits.accepts(timestamp: packet.timestamp, origin: gate.origin), "the gate let through timestamp \(packet.timestamp)")
                }
                add(.audio(AudioFrame(channel: packet.channel, userName: packet.userName, timestamp: packet.timestamp, format: media.audio, pcm: packet.pcm)), stream: stream)
            case .transcript(let message):
                add(.transcript(Transcript(channel: message.channelID ?? "0", speaker: message.userName, text: message.text,
                                           start: message.startTime ?? message.timestamp, end: message.endTime)), stream: stream)
            case .event(let update):
                add(.participant(ParticipantEvent(eventType: update.eventType, eventName: "EVENT", participant: update.participant)), stream: stream)
            case .streamState(let update) where update.state == RTMSStreamState.terminated.rawValue:
                add(.streamStopped(RTMSStopReasons.reason(update.reason)), stream: stream)
            default:
                continue
            }
        }
    }
}

func drive(_ events: Events) async {
    let directory = Run.scratch + "/run"
    try? FileManager.default.removeItem(atPath: directory)
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let recordings = directory + "/recordings"
    var sinks: [any Sink] = [
        WAVSink(options: WAVSinkOptions(directory: recordings, mix: events.mix, maxChannels: events.maxChannels), context: SinkContext(id: "wav", logger: Run.logger)),
        SQLiteSink(options: SQLiteSinkOptions(path: directory + "/archive.sqlite", storeAudio: true), context: SinkContext(id: "archive", logger: Run.logger)),
    ]
    do {
        sinks.append(try WebSink(options: WebSinkOptions(), context: SinkContext(id: "web", logger: Run.logger)))
    } catch {
        check(false, "the web sink does not start with its defaults: \(error)")
    }
    for sink in sinks {
        do {
            try await sink.start()
            // Two batches, so state that spans batches (gaps, pending samples) is exercised too.
            let half = events.list.count / 2
            try await sink.consume(Array(events.list[..<half]))
            try await sink.tick()
            try await sink.consume(Array(events.list[half...]))
            try await sink.finish()
        } catch {
            // A sink may refuse a batch (it reports it on /health); it must not crash.
        }
    }
    checkRecordings(under: recordings, maxChannels: events.maxChannels)
}

/// Every WAV file declares exactly the data it holds, and no stream has more party files than `max_channels`.
func checkRecordings(under path: String, maxChannels: Int) {
    let files = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".wav") }
    var perStream: [String: Int] = [:]
    for file in files {
        let full = path + "/" + file
        let name = (file as NSString).lastPathComponent
        if name != "mixed.wav" { perStream[(file as NSString).deletingLastPathComponent, default: 0] += 1 }
        guard let handle = FileHandle(forReadingAtPath: full) else { continue }
        let head = [UInt8](handle.readData(ofLength: WAVHeader.size))
        let size = (try? FileManager.default.attributesOfItem(atPath: full)[.size] as? Int) ?? 0
        try? handle.close()
        guard let header = try? WAVHeader.parse(head) else {
            check(false, "\(file): not a WAV file after finish()")
            continue
        }
        check(header.dataOffset + header.dataBytes == size, "\(file): header declares \(header.dataBytes) data bytes in a \(size)-byte file")
        check(header.riffSize == 36 + header.dataBytes, "\(file): RIFF size \(header.riffSize) for \(header.dataBytes) data bytes")
    }
    for (stream, count) in perStream {
        check(count <= maxChannels, "\(stream): \(count) party files with max_channels \(maxChannels)")
    }
}

runFuzzer(fuzzSinkPath)
