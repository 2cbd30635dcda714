import ArgumentParser
import Foundation
import Logging

/// Options every command takes: how and how much to log.
struct GlobalOptions: ParsableArguments {
    enum LogFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(help: "Log format: text (for people) or json (one object per line, for machines).")
    var logFormat: LogFormat = .text

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. Default: $RTMS_RELAY_LOG_LEVEL or info.")
    var logLevel: String?

    /// The level from `--log-level`, else `RTMS_RELAY_LOG_LEVEL`, else info.
    func resolvedLevel() throws -> Logger.Level {
        let text = logLevel ?? ProcessInfo.processInfo.environment["RTMS_RELAY_LOG_LEVEL"] ?? "info"
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            throw CommandFailure.badInput("unknown log level '\(text)' (use one of: \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return level
    }

    /// Sets up swift-log for the process (once) and returns the relay's logger.
    func bootstrapLogging() throws -> Logger {
        let level = try resolvedLevel()
        let format = logFormat
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = switch format {
            case .text: TextLogHandler(label: label)
            case .json: JSONLogHandler(label: label)
            }
            handler.logLevel = level
            return handler
        }
        return Logger(label: "rtms-relay")
    }
}
