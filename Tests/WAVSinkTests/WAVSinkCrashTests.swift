import Foundation
import RelayTesting
import Testing
@testable import WAVSink

@Suite("WAV sink: crash")
struct WAVSinkCrashTests {
    @Test("a SIGKILL mid-stream leaves playable files missing at most about a second")
    func sigkillLeavesPlayableFiles() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let probe = try Self.probePath()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: probe)
        process.arguments = [dir.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()

        // Read "published N" lines until 3.3 s of audio went out, then kill without warning.
        var published = 0
        var buffer = Data()
        let handle = output.fileHandleForReading
        while published < 165 {
            let chunk = handle.availableData
            guard !chunk.isEmpty else { break }
            buffer.append(chunk)
            let text = String(decoding: buffer, as: UTF8.self)
            if let last = text.split(separator: "\n").last(where: { $0.hasPrefix("published ") }) {
                published = Int(last.dropFirst("published ".count)) ?? published
            }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(published >= 165, "the probe stopped early")

        let audio = DeterministicAudio()
        let frameBytes = audio.samplesPerFrame * 2
        for (file, channels) in [("agent.wav", 1), ("customer.wav", 1), ("mixed.wav", 2)] {
            let wav = try WAVContents(path: dir.path + "/crash/s1/" + file)
            #expect(wav.header.riffSize == wav.header.dataBytes + 36, "\(file)")
            #expect(wav.header.dataBytes <= wav.fileSize - 44, "\(file): header claims more than the file holds")
            #expect(wav.header.dataBytes % (2 * channels) == 0)
            let declaredFrames = wav.header.dataBytes / (frameBytes * channels)
            // Patched at least once a second; allow half a second more for the mixer's window and scheduling.
            #expect(declaredFrames >= published - 75, "\(file): header declares \(declaredFrames) of \(published) frames")
            if channels == 1 {
                let party = file == "agent.wav" ? 0 : 1
                #expect(Array(wav.data.prefix(declaredFrames * frameBytes)) == (0..<declaredFrames).flatMap { audio.frameBytes(party: party, frame: $0) })
            }
        }
    }

    /// The probe is built next to the test bundle (`swift build --build-tests` builds it as a dependency).
    static func probePath() throws -> String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = (executable as NSString).deletingLastPathComponent
        for _ in 0..<4 {
            let candidate = directory + "/wav-crash-probe"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = (directory as NSString).deletingLastPathComponent
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let fallback = root.appendingPathComponent(".build/debug/wav-crash-probe").path
        guard FileManager.default.isExecutableFile(atPath: fallback) else {
            throw ProbeMissing(description: "wav-crash-probe not found next to \(executable) or at \(fallback); run swift build --build-tests")
        }
        return fallback
    }

    struct ProbeMissing: Error, CustomStringConvertible {
        var description: String
    }
}
