import Foundation
import Logging
import RelayCore
import RelayTesting
@testable import WAVSink

/// A fresh directory under /tmp, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "wavsink-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A WAV sink writing under `directory`, with the context to read its health.
func makeSink(directory: String, mix: WAVSinkOptions.Mix = .none) -> (WAVSink, SinkContext) {
    let context = SinkContext(id: "qa", logger: Logger(label: "test"))
    return (WAVSink(options: WAVSinkOptions(directory: directory, mix: mix), context: context), context)
}

/// A parsed WAV file: its header and the data bytes the header declares.
struct WAVContents {
    var header: WAVHeader
    var data: [UInt8]
    var fileSize: Int

    init(path: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        header = try WAVHeader.parse(bytes)
        fileSize = bytes.count
        let end = min(bytes.count, header.dataOffset + header.dataBytes)
        data = Array(bytes[header.dataOffset..<end])
    }
}

/// Zero bytes standing for `frames` frames of silence.
func silence(frames: Int, audio: DeterministicAudio, channels: Int = 1) -> [UInt8] {
    [UInt8](repeating: 0, count: frames * audio.samplesPerFrame * 2 * channels)
}

func stopped(_ engagement: String, _ stream: String, code: Int = 1, name: String = "STOP_BC_HOST_TRIGGERED", at time: Int64 = 1_764_000_100_000) -> StreamEvent {
    StreamEvent(timeMillis: time, engagementID: engagement, streamID: stream, kind: .streamStopped(StopReason(code: code, name: name)))
}

/// Every file under `path`, relative to it.
func filesUnder(_ path: String) -> [String] {
    (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? []).sorted()
}
