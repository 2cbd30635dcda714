import Foundation
import Logging
import RelayCore

/// `--log-format json`: one JSON object per line on standard error
/// (`{"time":…,"level":…,"label":…,"message":…,"metadata":{…}}`), for log shippers.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var line = "{\"time\":\"\(EventClock.iso8601(millis: EventClock.nowMillis()))\",\"level\":\"\(event.level)\""
        line += ",\"label\":\(Self.quote(label)),\"message\":\(Self.quote("\(event.message)"))"
        if !merged.isEmpty {
            line += ",\"metadata\":{"
            line += merged.sorted { $0.key < $1.key }.map { "\(Self.quote($0.key)):\(Self.quote("\($0.value)"))" }.joined(separator: ",")
            line += "}"
        }
        line += "}\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// A JSON string literal for `text`.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
