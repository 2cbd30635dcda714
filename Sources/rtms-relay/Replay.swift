import ArgumentParser
import Foundation
import Logging
import RelayCore
import BuiltInSinks
import SQLiteSink

/// `rtms-relay replay`: feeds the events archived by a `type: sqlite` sink to the configured sinks, e.g. to
/// rebuild WAV files (the archive needs `store_audio: true` for audio) or to backfill a new sink.
///
/// The work is done by `ArchiveReplay` (ArchiveReplay.swift); this command only loads the config and
/// maps failures to exit codes (1 bad input or config, 2 runtime failure).
struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Feed archived events from the SQLite archive to the configured sinks (e.g. rebuild WAVs)."
    )

    @Option(name: .long, help: "The SQLite archive to read (a type: sqlite sink's path).")
    var archive: String

    @Option(name: .long, help: "Replay only this engagement.")
    var engagement: String?

    @Option(name: .long, help: "The config whose sinks receive the events (default: ./config.yaml, else the embedded defaults).")
    var config: String?

    @Option(name: .customLong("sink"), help: "Replay only into this sink id (repeatable; default: every sink except the archive itself).")
    var sinks: [String] = []

    @Flag(name: .long, help: "Also give a sink the events it already holds (by default a JSON Lines file the relay wrote is not appended to twice).")
    var duplicates = false

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let logger = try global.bootstrapLogging()
        let replay: ArchiveReplay
        do {
            let configuration = try ConfigLoader(registry: BuiltInSinks.registry).load(path: config)
            replay = try ArchiveReplay(archive: ArchiveReader(path: archive), configuration: configuration, registry: BuiltInSinks.registry, only: sinks, logger: logger)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw CommandFailure.badInput("\(error)")
        }
        guard !replay.targets.isEmpty else {
            throw CommandFailure.badInput("no sink to replay into (skipped: \(replay.skipped.joined(separator: ", ")))")
        }
        do {
            let summary = try await replay.run(engagement: engagement, duplicates: duplicates)
            print("replayed \(summary.events) events from \(archive)" + (summary.skipped.isEmpty ? "" : " (left out: \(summary.skipped.joined(separator: ", ")))"))
            for written in summary.written {
                var line = "  \(written.sink): \(written.events) events"
                if written.audioFrames > 0 { line += " (\(written.audioFrames) audio frames)" }
                if written.alreadyHeld > 0 { line += "; \(written.alreadyHeld) it already held were not written again (--duplicates to write them)" }
                print(line)
            }
        } catch let error as ArchiveError {
            throw CommandFailure.badInput("\(error)")
        } catch {
            throw CommandFailure.runtime("\(error)")
        }
    }
}
