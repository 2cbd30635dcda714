import Logging
import Synchronization

/// Collects every log line (message and metadata, as text) so a test can search them — e.g. to prove that
/// no secret or token ever reaches a log.
public final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    /// A logger at `level` writing into this capture.
    public func logger(label: String = "test", level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: label) { label in Handler(capture: self, label: label) }
        logger.logLevel = level
        return logger
    }

    /// Everything logged so far, one entry per line.
    public var all: [String] { lines.withLock { $0 } }

    /// Lines containing `text`.
    public func lines(containing text: String) -> [String] { all.filter { $0.contains(text) } }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }

    struct Handler: LogHandler {
        let capture: LogCapture
        let label: String
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged = metadata
            if let extra = event.metadata { merged.merge(extra) { _, new in new } }
            let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            capture.append("\(event.level) \(label): \(event.message) \(rendered)")
        }
    }
}
