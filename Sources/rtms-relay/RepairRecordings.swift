import ArgumentParser
import Foundation
import WAVSink

/// `rtms-relay repair-recordings DIR [--dry-run]`: repairs what a crash left in a WAV sink's directory (headers
/// lagging their data, manifests still `recording`), as `serve` does at start-up. The work is `RecordingRepair`'s
/// in the WAV sink module; this command prints one line per repaired file and a summary.
///
/// Exit 0 when done (even with nothing to repair or files left alone), 1 when DIR is not a directory.
struct RepairRecordings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair-recordings",
        abstract: "Repair WAV headers and stream.json manifests a crash left behind (never on a folder a running relay writes)."
    )

    @Argument(help: "A wav sink's directory (its `directory` option).")
    var directory: String

    @Flag(name: .long, help: "Only say what would be repaired; change nothing.")
    var dryRun = false

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        _ = try global.bootstrapLogging()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CommandFailure.badInput("\(directory) is not a directory")
        }
        let report = RecordingRepair.run(directory: directory, dryRun: dryRun)
        let verb = dryRun ? "would repair" : "repaired"
        for file in report.repaired {
            var line = "\(verb) \(file.path): data \(file.dataBytesBefore) -> \(file.dataBytesAfter) bytes"
            if file.fileBytesAfter != file.fileBytesBefore { line += " (file \(file.fileBytesBefore) -> \(file.fileBytesAfter) bytes)" }
            print(line)
        }
        for manifest in report.closedManifests {
            print("\(dryRun ? "would close" : "closed") \(manifest): recording -> \(RecordingRepair.interruptedState)")
        }
        for problem in report.problems {
            FileHandle.standardError.write(Data("warning: left alone \(problem.path): \(problem.reason)\n".utf8))
        }
        func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        print("\(dryRun ? "dry run: " : "")\(verb) \(report.repaired.count) of \(count(report.scannedFiles, "WAV file")), "
            + "\(dryRun ? "would close" : "closed") \(count(report.closedManifests.count, "manifest")), "
            + "left alone \(count(report.problems.count, "file")) in \(directory)")
    }
}
