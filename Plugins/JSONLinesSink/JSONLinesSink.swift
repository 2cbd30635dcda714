import Foundation
import RelayCore

/// Writes every non-audio event (and optionally a summary line per audio frame) as one JSON object per
/// line, to a file with size-based rotation or to standard output.
///
/// This is the worked example of a sink (see docs/writing-a-sink.md): an options struct, an actor holding
/// the open file, `consume(_:)` writing a whole batch with one `write`, and `finish()` closing the file.
public actor JSONLinesSink: SinkPlugin, EventHoldingSink {
    public static let typeName = "jsonl"
    public static let summary = "every non-audio event as one JSON object per line, to a file (rotated by size) or stdout"

    private let options: JSONLinesSinkOptions
    /// Without audio in the file (`audio: none`) the hub does not hand this sink audio frames at all.
    public nonisolated var interests: EventInterests { options.audio == .none ? .allButAudio : .all }
    private let context: SinkContext
    private let encoder: JSONEncoder
    private var file: FileHandle?
    private var size = 0

    public init(options: JSONLinesSinkOptions, context: SinkContext) throws {
        self.options = options
        self.context = context
        encoder = StreamEvent.jsonEncoder(pcm: .summary)
    }

    public func start() async throws {
        guard !options.isStandardOutput, file == nil else { return }
        try open()
    }

    public func consume(_ events: [StreamEvent]) async throws {
        var batch = Data()
        for event in events {
            batch.append(try encoder.encode(event))
            batch.append(UInt8(ascii: "\n"))
        }
        guard !batch.isEmpty else { return }
        if options.isStandardOutput {
            try FileHandle.standardOutput.write(contentsOf: batch)
            return
        }
        if size > 0, size + batch.count > options.maxBytes { try rotate() }
        guard let file else { throw JSONLinesSinkError.notOpen(options.path) }
        try file.write(contentsOf: batch)
        size += batch.count
    }

    /// The events in the file and its rotated copies (`path.1` … `path.max_files`); nothing for standard output.
    public func heldEvents(of engagements: Set<String>?) async throws -> Set<EventKey> {
        guard !options.isStandardOutput else { return [] }
        struct Line: Decodable {
            var seq: UInt64
            var engagementID: String
            enum CodingKeys: String, CodingKey { case seq, engagementID = "engagement_id" }
        }
        let decoder = JSONDecoder()
        var held = Set<EventKey>()
        for path in [options.path] + (1...max(1, options.maxFiles)).map({ "\(options.path).\($0)" }) {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            for line in data.split(separator: UInt8(ascii: "\n")) {
                guard let event = try? decoder.decode(Line.self, from: line), engagements?.contains(event.engagementID) ?? true else { continue }
                held.insert(EventKey(engagementID: event.engagementID, seq: event.seq))
            }
        }
        return held
    }

    public func finish() async throws {
        try file?.synchronize()
        try file?.close()
        file = nil
    }

    private func open() throws {
        let url = URL(fileURLWithPath: options.path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw JSONLinesSinkError.cannotCreate(url.path)
            }
        }
        let handle = try FileHandle(forWritingTo: url)
        size = Int(try handle.seekToEnd())
        file = handle
    }

    /// Shifts `path.N-1` to `path.N` … `path` to `path.1`, dropping the oldest, and starts a new file.
    private func rotate() throws {
        try file?.close()
        file = nil
        let manager = FileManager.default
        let oldest = "\(options.path).\(options.maxFiles)"
        if manager.fileExists(atPath: oldest) { try manager.removeItem(atPath: oldest) }
        for index in stride(from: options.maxFiles - 1, through: 1, by: -1) where manager.fileExists(atPath: "\(options.path).\(index)") {
            try manager.moveItem(atPath: "\(options.path).\(index)", toPath: "\(options.path).\(index + 1)")
        }
        try manager.moveItem(atPath: options.path, toPath: "\(options.path).1")
        try open()
        context.logger.info("rotated", metadata: ["path": "\(options.path)"])
    }
}

/// Why the JSON Lines sink could not write.
enum JSONLinesSinkError: Error, CustomStringConvertible {
    case notOpen(String)
    case cannotCreate(String)

    var description: String {
        switch self {
        case .notOpen(let path): "\(path) is not open"
        case .cannotCreate(let path): "cannot create \(path) (check the directory exists and is writable)"
        }
    }
}
