import Foundation
import Logging
import RelayCore

/// `--log-format json`: one JSON object per line on standard error
/// (`{"time":…,"level":…,"label":…,"message":…,"metadata":{…}}`), for log shippers.
struct JSONLogHandler: StderrLogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    func log(event: LogEvent) {
        let merged = mergedMetadata(event)
        var line = "{\"time\":\"\(EventClock.iso8601(millis: EventClock.nowMillis()))\",\"level\":\"\(event.level)\""
        line += ",\"label\":\(JSONText.quote(label)),\"message\":\(JSONText.quote("\(event.message)"))"
        if !merged.isEmpty {
            line += ",\"metadata\":{"
            line += merged.sorted { $0.key < $1.key }.map { "\(JSONText.quote($0.key)):\(JSONText.quote("\($0.value)"))" }.joined(separator: ",")
            line += "}"
        }
        line += "}\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
