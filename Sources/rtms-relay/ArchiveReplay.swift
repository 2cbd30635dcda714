import Foundation
import Logging
import RelayCore
import SQLiteSink

/// Feeds archived events to sinks built from a configuration: what `rtms-relay replay` runs (`Replay.swift` only
/// adds the command line). The SQLite sink module gives the reader (`ArchiveReader`); the sinks are built like
/// the relay's own (`SinkRegistry.makeSinks`). Tested by `Tests/SQLiteSinkTests/ArchiveReplayTests.swift`.
///
/// Sinks are fed directly, batch by batch and in archive order, not through the `EventHub`: a replay must
/// not drop anything under a `drop_newest` queue policy, and events keep their archived `seq`. A sink that
/// archives into the archive being read is skipped, since it would copy every event into itself.
public struct ArchiveReplay: Sendable {
    /// A sink to feed, with its config id.
    public struct Target: Sendable {
        public var id: String
        public var sink: any Sink
        public var context: SinkContext

        public init(id: String, sink: any Sink, context: SinkContext) {
            self.id = id
            self.sink = sink
            self.context = context
        }
    }

    /// What a replay did.
    public struct Summary: Sendable, Equatable {
        public var events = 0
        public var batches = 0
        public var sinks: [String] = []
        public var skipped: [String] = []
        /// What each sink was given, in the order of `sinks`.
        public var written: [Written] = []
    }

    /// What one sink was given: events (audio frames among them), and events left out because the sink already
    /// held them (`EventHoldingSink`).
    public struct Written: Sendable, Equatable {
        public var sink: String
        public var events = 0
        public var audioFrames = 0
        public var alreadyHeld = 0

        public init(sink: String, events: Int = 0, audioFrames: Int = 0, alreadyHeld: Int = 0) {
            self.sink = sink
            self.events = events
            self.audioFrames = audioFrames
            self.alreadyHeld = alreadyHeld
        }
    }

    /// A sink that failed during the replay.
    /// `--sink` names an id the config does not have.
    public struct UnknownSink: Error, CustomStringConvertible {
        public var id: String
        public var source: String
        public var description: String { "no sink '\(id)' in \(source)" }
    }

    public struct SinkFailed: Error, CustomStringConvertible {
        public var id: String
        public var error: any Error
        public var description: String { "sink '\(id)': \(error)" }
    }

    public let reader: ArchiveReader
    public let targets: [Target]
    /// Ids of configured sinks left out (the archive itself, or not chosen with `only`).
    public let skipped: [String]

    /// Builds the configured sinks (all, or those whose ids are in `only`) except one writing to this archive.
    public init(archive reader: ArchiveReader, configuration: RelayConfiguration, registry: SinkRegistry, only: [String] = [], logger: Logger) throws {
        self.reader = reader
        var chosen: [SinkSettings] = []
        var skipped: [String] = []
        let archive = Self.canonical(reader.path)
        for settings in configuration.sinks {
            if !only.isEmpty && !only.contains(settings.id) {
                skipped.append(settings.id)
            } else if let options = settings.options as? SQLiteSinkOptions, Self.canonical(options.path) == archive {
                logger.notice("not replaying into the archive being read", metadata: ["sink": "\(settings.id)"])
                skipped.append(settings.id)
            } else {
                chosen.append(settings)
            }
        }
        if let unknown = only.first(where: { id in !configuration.sinks.contains { $0.id == id } }) {
            throw UnknownSink(id: unknown, source: configuration.source)
        }
        let targets = try registry.makeSinks(chosen, of: configuration, logger: logger, openSpill: nil).map { Target(id: $0.id, sink: $0.sink, context: $0.context) }
        self.targets = targets
        self.skipped = skipped
    }

    /// Feeds explicit sinks (tests, embedding).
    public init(archive reader: ArchiveReader, targets: [Target]) {
        self.reader = reader
        self.targets = targets
        self.skipped = []
    }

    /// Replays one engagement (or the whole archive): starts every sink, hands each batch to each sink in
    /// turn, and finishes them all (WAV headers and manifests are finalised there).
    ///
    /// Refuses, before writing anything, to feed a sink that writes audio files (`AudioFileSink`) from an archive
    /// without audio. A sink that can say what it already holds (`EventHoldingSink`, e.g. a JSON Lines file the
    /// relay wrote live) is not given those events again, unless `duplicates` is true. Each sink gets only the kinds
    /// it asks for (`Sink.interests`), as from the hub.
    public func run(engagement: String? = nil, duplicates: Bool = false) async throws -> Summary {
        if let engagement, try await !reader.engagementIDs().contains(engagement) {
            throw ArchiveError.unknownEngagement(engagement, reader.path)
        }
        if let recorder = targets.first(where: { $0.sink is any AudioFileSink }), try await !reader.hasAudio(engagement: engagement) {
            throw ArchiveError.noAudio(sink: recorder.id, path: reader.path)
        }
        var summary = Summary(sinks: targets.map(\.id), skipped: skipped, written: targets.map { Written(sink: $0.id) })
        var held: [Set<EventKey>] = []
        for target in targets {
            do {
                held.append(!duplicates ? try await (target.sink as? any EventHoldingSink)?.heldEvents(of: engagement.map { [$0] }) ?? [] : [])
                try await target.sink.start()
            } catch {
                throw SinkFailed(id: target.id, error: error)
            }
        }
        let interests = targets.map(\.sink.interests)
        for try await batch in reader.events(engagement: engagement) {
            for (index, target) in targets.enumerated() {
                // What the hub would hand this sink (`Sink.interests`), less what it already holds.
                let wanted = interests[index].filter(batch)
                let fresh = held[index].isEmpty ? wanted : wanted.filter { !held[index].contains(EventKey($0)) }
                summary.written[index].alreadyHeld += wanted.count - fresh.count
                summary.written[index].events += fresh.count
                summary.written[index].audioFrames += fresh.count { if case .audio = $0.kind { true } else { false } }
                guard !fresh.isEmpty else { continue }
                do { try await target.sink.consume(fresh) } catch { throw SinkFailed(id: target.id, error: error) }
            }
            summary.events += batch.count
            summary.batches += 1
        }
        for target in targets {
            do { try await target.sink.finish() } catch { throw SinkFailed(id: target.id, error: error) }
        }
        return summary
    }

    private static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
