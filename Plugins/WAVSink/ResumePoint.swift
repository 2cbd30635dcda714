#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// What an earlier run of the relay left of one stream's recording, read back so that the rest of the stream
/// continues the same files instead of starting new ones beside them.
///
/// This happens when a stream's audio reaches the sink in a later process than the one that opened its files:
/// events spilled to disk (`overflow: spill`) before a crash or a shutdown are delivered by the next `serve`, and
/// a stream the relay takes up again after a restart keeps its stream id. The earlier run's files are reopened
/// only when they are exactly what the sink writes and the manifest says the recording ended without Zoom's stop
/// (`interrupted` after a crash, `closed` at a shutdown): positions then continue on the same clock, and the
/// time between the runs is a gap of silence like any other.
struct ResumePoint {
    var manifest: StreamManifest
    /// Interleaved channels of each party file.
    var channels: Int
    /// Sample frames each file holds, by file name (the party files and `mixed.wav`).
    var frames: [String: Int64]

    enum Outcome {
        /// No recording of this stream in the folder.
        case none
        case resumable(ResumePoint)
        /// A recording is there but must not be continued (it is moved aside); the reason is logged.
        case refused(String)
    }

    /// Reads `directory/stream.json` and the headers of the files it lists. `sampleRate`: the rate of the audio
    /// about to be written, which must be the files' rate; `channels`: its channels, taken when no party file exists yet.
    static func read(directory: String, sampleRate: Int, channels: Int) -> Outcome {
        guard let data = FileManager.default.contents(atPath: directory + "/stream.json") else {
            return FileManager.default.fileExists(atPath: directory) ? .refused("no stream.json") : .none
        }
        let manifest: StreamManifest
        do {
            manifest = try StreamManifest.decode(data)
        } catch {
            return .refused("stream.json cannot be read: \(error)")
        }
        guard manifest.state == RecordingRepair.interruptedState || manifest.state == "closed" else {
            return .refused("the recording is \(manifest.state)")
        }
        guard manifest.sampleRate == sampleRate else {
            return .refused("the recording is at \(manifest.sampleRate) Hz, the stream now sends \(sampleRate) Hz")
        }
        var point = ResumePoint(manifest: manifest, channels: 0, frames: [:])
        for channel in manifest.channels {
            guard channel.file.hasSuffix(".wav"), !channel.file.contains("/") else { return .refused("stream.json names \(channel.file)") }
            // The manifest is written before the party's first samples: a file not there yet holds nothing.
            guard FileManager.default.fileExists(atPath: directory + "/" + channel.file) else {
                point.frames[channel.file] = 0
                continue
            }
            switch header(directory + "/" + channel.file, sampleRate: sampleRate) {
            case .success(let file):
                guard point.channels == 0 || point.channels == file.channels else { return .refused("\(channel.file) has \(file.channels) channels") }
                point.channels = file.channels
                point.frames[channel.file] = file.frames
            case .failure(let problem):
                return .refused("\(channel.file): \(problem.reason)")
            }
        }
        if point.channels == 0 { point.channels = channels }
        if let mixed = manifest.mixed {
            guard mixed.file == "mixed.wav" else { return .refused("stream.json names \(mixed.file)") }
            guard FileManager.default.fileExists(atPath: directory + "/" + mixed.file) else {
                point.frames[mixed.file] = 0
                return .resumable(point)
            }
            switch header(directory + "/" + mixed.file, sampleRate: sampleRate) {
            case .success(let file) where file.channels == 2:
                point.frames[mixed.file] = file.frames
            case .success:
                return .refused("\(mixed.file) is not stereo")
            case .failure(let problem):
                return .refused("\(mixed.file): \(problem.reason)")
            }
        }
        return .resumable(point)
    }

    /// The file's channels and sample frames, if it is a WAV in the sink's own layout of 16-bit samples at `sampleRate`
    /// whose header matches its size (what the sink and `RecordingRepair` leave behind).
    private static func header(_ path: String, sampleRate: Int) -> Result<(channels: Int, frames: Int64), WAVLayoutProblem> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return .failure(WAVLayoutProblem(WAVWriteError("open", path).reason)) }
        defer { close(descriptor) }
        return RecordingFiles.ownHeader(descriptor: descriptor, path: path).flatMap { header, size in
            guard header.bitsPerSample == 16, (1...8).contains(header.channels), header.sampleRate == sampleRate else {
                return .failure(WAVLayoutProblem("\(header.bitsPerSample)-bit, \(header.channels) channels, \(header.sampleRate) Hz"))
            }
            guard size == WAVHeader.size + header.dataBytes, header.riffSize == 36 + header.dataBytes, header.dataBytes % header.blockAlign == 0 else {
                return .failure(WAVLayoutProblem("header declares \(header.dataBytes) bytes, file holds \(size - WAVHeader.size)"))
            }
            return .success((header.channels, Int64(header.dataBytes / header.blockAlign)))
        }
    }
}
