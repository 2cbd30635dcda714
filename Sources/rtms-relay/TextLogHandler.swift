import Foundation
import Logging
import RelayCore

/// `--log-format text`: `StreamLogHandler`'s line layout on standard error, with every message and metadata
/// value escaped so that one event is always one line.
///
/// Values can come from outside (an OAuth callback's `?error=`, an engagement id, a peer's error text), and a
/// raw newline in one of them would let a caller forge log lines. Values are escaped as in a JSON string
/// (`\n`, `\r`, `\t`, `\"`, `\\`, `\u001b`; see `JSONText.quote`) without the surrounding quotes, and values
/// longer than `maxValueLength` characters are cut and end in `…`.
struct TextLogHandler: StderrLogHandler {
    /// Longest metadata value written in full.
    static let maxValueLength = 512
    /// Longest message written in full.
    static let maxMessageLength = 4096

    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    func log(event: LogEvent) {
        var line = "\(Self.timestamp()) \(event.level) \(Self.escape(label)):"
        for (key, value) in mergedMetadata(event).sorted(by: { $0.key < $1.key }) {
            line += " \(Self.escape(key))=\(Self.escape("\(value)"))"
        }
        line += " [\(Self.escape(event.source))] \(Self.escape("\(event.message)", limit: Self.maxMessageLength))\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// `text` on one line, at most `limit` characters of it kept.
    static func escape(_ text: String, limit: Int = maxValueLength) -> String {
        let cut = text.count > limit ? String(text.prefix(limit)) : text
        return JSONText.quote(cut).dropFirst().dropLast() + (cut.count < text.count ? "…" : "")
    }

    /// Local time as `2026-01-31T09:15:02+0100`, the layout `StreamLogHandler` uses.
    static func timestamp() -> String {
        var now = time(nil)
        var local = tm()
        localtime_r(&now, &local)
        var buffer = [CChar](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// What the relay's two log handlers (text and JSON, both on standard error) share: metadata storage, and the
/// handler's metadata merged with an event's (the event's wins) plus the event's error.
protocol StderrLogHandler: LogHandler {}

extension StderrLogHandler {
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func mergedMetadata(_ event: LogEvent) -> Logger.Metadata {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        if let error = event.error { merged["error.message"] = "\(error)" }
        return merged
    }
}
