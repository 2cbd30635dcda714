import Foundation
import RelayCore

/// The recordings a WAV sink wrote, read back from disk: `{directory}/{engagement}/{stream}[.N]/stream.json`
/// names each party's file. Used by the recordings page (`AudioFiles`) and by retention.
public struct RecordingFolders: AudioFiles {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The folder of one engagement's streams.
    func engagementFolder(_ engagementID: String) -> String {
        directory + "/" + SafeFileName.make(engagementID)
    }

    /// The folder of one stream (before any earlier recording is moved aside to `.N`).
    func streamFolder(engagementID: String, streamID: String?) -> String {
        engagementFolder(engagementID) + "/" + SafeFileName.make(streamID ?? "no-stream")
    }

    public func recordings(of engagementID: String) -> [StreamAudio] {
        let folder = engagementFolder(engagementID)
        var found: [(startedAt: String, folder: String, audio: StreamAudio)] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            let path = folder + "/" + name
            // Safe file names can collide (two ids that differ only in characters a file name cannot hold): the
            // manifest says whose stream it is.
            guard let manifest = Self.manifest(in: path), manifest.engagementId == engagementID else { continue }
            func file(_ name: String) -> String { path + "/" + name }
            let channels = manifest.channels.map {
                StreamAudio.File(channel: $0.channel, userName: $0.userName, path: file($0.file), durationMillis: $0.durationMs,
                                 gaps: $0.statistics.gaps.map { StreamAudio.Gap(atMillis: $0.atMs, durationMillis: $0.durationMs) })
            }
            let mixed = manifest.mixed.map {
                StreamAudio.File(channel: "mixed", userName: nil, path: file($0.file), durationMillis: channels.map(\.durationMillis).max() ?? 0)
            }
            found.append((manifest.startedAt, name, StreamAudio(streamID: manifest.streamId, state: manifest.state, sampleRate: manifest.sampleRate,
                                                          originTimestamp: manifest.originTimestamp, channels: channels, mixed: mixed)))
        }
        return found.sorted { ($0.startedAt, $0.folder) < ($1.startedAt, $1.folder) }.map(\.audio)
    }

    static func manifest(in folder: String) -> StreamManifest? {
        guard let data = FileManager.default.contents(atPath: folder + "/stream.json") else { return nil }
        return try? StreamManifest.decode(data)
    }

    /// What a retention sweep deleted.
    struct Deleted: Equatable {
        var streams = 0
        var bytes: Int64 = 0
    }

    /// Deletes every stream folder whose `stream.json` was last written before `cutoff` (ms since the epoch),
    /// except the folders in `open` (recording now), and engagement folders left empty.
    func delete(before cutoff: Int64, except open: Set<String>) -> Deleted {
        let files = FileManager.default
        var deleted = Deleted()
        for engagement in (try? files.contentsOfDirectory(atPath: directory)) ?? [] {
            let engagementPath = directory + "/" + engagement
            guard let streams = try? files.contentsOfDirectory(atPath: engagementPath) else { continue }
            var left = streams.count
            for stream in streams {
                let path = engagementPath + "/" + stream
                guard !open.contains(path), let written = Self.lastWritten(path + "/stream.json"), written < cutoff else { continue }
                let bytes = Self.size(of: path, files)
                do {
                    try files.removeItem(atPath: path)
                    deleted.streams += 1
                    deleted.bytes += bytes
                    left -= 1
                } catch {
                    continue
                }
            }
            if left == 0 { try? files.removeItem(atPath: engagementPath) }
        }
        return deleted
    }

    private static func lastWritten(_ path: String) -> Int64? {
        guard let date = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date else { return nil }
        return Int64(date.timeIntervalSince1970 * 1000)
    }

    private static func size(of folder: String, _ files: FileManager) -> Int64 {
        ((try? files.contentsOfDirectory(atPath: folder)) ?? []).reduce(0) { total, name in
            total + (((try? files.attributesOfItem(atPath: folder + "/" + name))?[.size] as? NSNumber)?.int64Value ?? 0)
        }
    }
}
