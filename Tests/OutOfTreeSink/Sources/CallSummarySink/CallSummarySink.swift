import Foundation
import RelayCore

/// A custom sink written the way docs/writing-a-sink.md describes, in a package of its own (Tests/OutOfTreeSink):
/// when a stream stops, it appends one line to a file with the stream's audio frame counts per channel and why it
/// stopped. Its package's tests run the conformance suite; rtms-relay's `CustomSinkTests` also registers it next to
/// the built-in sinks and plays a simulated call through it.
public actor CallSummarySink: SinkPlugin {
    public struct Options: SinkOptions {
        /// The file the summaries are appended to.
        public var path: String

        public enum CodingKeys: String, CodingKey, Sendable { case path }

        public init(path: String) throws {
            guard !path.isEmpty else { throw OptionError(key: "path", "must not be empty") }
            self.path = path
        }

        public init(from decoder: any Decoder) throws {
            try self.init(path: decoder.container(keyedBy: CodingKeys.self).decode(Self.pathOption))
        }

        public static let pathOption = SinkOption<CodingKeys, String>(required: .path, "string", "file to append one summary line per stream to")
        public static let documentation = [pathOption.documentation]
    }

    public static let typeName = "call_summary"
    public static let summary = "one line per finished stream: frames per channel and the stop reason"

    private let options: Options
    private var frames: [String: [String: Int]] = [:]

    public init(options: Options, context: SinkContext) throws {
        self.options = options
    }

    public func consume(_ events: [StreamEvent]) async throws {
        for event in events {
            guard let stream = event.streamID else { continue }
            switch event.kind {
            case .audio(let frame):
                frames[stream, default: [:]][frame.channel, default: 0] += 1
            case .streamStopped(let reason):
                let counts = (frames.removeValue(forKey: stream) ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                try append("\(event.engagementID) \(stream) \(counts.joined(separator: ",")) stopped:\(reason.code):\(reason.name)\n")
            default:
                break
            }
        }
    }

    private func append(_ line: String) throws {
        let url = URL(fileURLWithPath: options.path)
        if !FileManager.default.fileExists(atPath: url.path) {
            FileManager.default.createFile(atPath: url.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line.utf8))
    }
}
