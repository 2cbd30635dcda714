import ArgumentParser
import Foundation
import NIOCore
import RelayCore

/// `rtms-relay`: the relay and its tools (README.md, "Command line").
///
/// Exit codes: 0 ok, 1 bad input or config, 2 runtime failure. Every error is one line on standard error,
/// never a stack trace.
@main
struct RTMSRelay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtms-relay",
        abstract: "Receives Zoom Realtime Media Streams and sends them, as typed events, to pluggable sinks.",
        version: RelayVersion.current,
        subcommands: [Serve.self, Demo.self, Simulate.self, Bench.self, CheckConfig.self, Replay.self, RepairRecordings.self]
    )

    static func main() async {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(1)
        }
        do {
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                var command = command
                try command.run()
            }
            Foundation.exit(0)
        } catch {
            // Help and version requests surface here when the root command itself was chosen.
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let (message, code) = CommandFailure.describe(error)
            if let message { FileHandle.standardError.write(Data("error: \(message)\n".utf8)) }
            Foundation.exit(code)
        }
    }
}

/// An error that ends a command with a chosen exit code and message.
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32

    var description: String { message }

    /// Bad input or config: exit 1.
    static func badInput(_ message: String) -> CommandFailure { CommandFailure(message: message, exitCode: 1) }
    /// Something failed while running: exit 2.
    static func runtime(_ message: String) -> CommandFailure { CommandFailure(message: message, exitCode: 2) }

    /// `error` as a bad-input failure when it says a listener's port is taken (exit 1, with what to do), else
    /// nil. `port` names the port as the user set it, e.g. "port 3001 (server.port)".
    static func portInUse(_ error: any Error, port: String) -> CommandFailure? {
        guard let error = error as? IOError, error.errnoCode == EADDRINUSE else { return nil }
        return .badInput("\(port) is already in use: stop the program listening there (`ss -ltnp` shows it) or choose another port")
    }

    /// The one-line message (nil when nothing should be printed) and exit code for an error from `run()`.
    static func describe(_ error: any Error) -> (String?, Int32) {
        switch error {
        case let failure as CommandFailure: return (failure.message, failure.exitCode)
        // Every mistake in the file, each on its own `error:` line.
        case let error as ConfigError: return (error.lines.joined(separator: "\nerror: "), 1)
        case let error as ValidationError: return (error.message, 1)
        case let code as ExitCode: return (nil, code.rawValue)
        case is CancellationError: return (nil, 0)
        default: return ("\(error)", 2)
        }
    }
}
