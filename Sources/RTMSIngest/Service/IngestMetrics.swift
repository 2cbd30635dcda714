import Synchronization

/// Counters of what ingest received, for `/metrics` and `/health`. Lock-free: they are bumped per frame.
public final class IngestMetrics: Sendable {
    private let frames = Atomic<Int>(0)
    private let bytes = Atomic<Int>(0)
    private let audio = Atomic<Int>(0)
    private let malformedFrames = Atomic<Int>(0)
    private let refusedHosts = Atomic<Int>(0)

    public init() {}

    /// WebSocket messages received from Zoom.
    public var framesReceived: Int { frames.load(ordering: .relaxed) }
    public var bytesReceived: Int { bytes.load(ordering: .relaxed) }
    /// Audio frames published as `audio` events.
    public var audioFrames: Int { audio.load(ordering: .relaxed) }
    /// Frames that could not be parsed (logged and dropped).
    public var malformedFramesReceived: Int { malformedFrames.load(ordering: .relaxed) }
    /// `server_urls` refused by the allow-list.
    public var refusedServerHosts: Int { refusedHosts.load(ordering: .relaxed) }

    func frameReceived(bytes count: Int) {
        frames.add(1, ordering: .relaxed)
        bytes.add(count, ordering: .relaxed)
    }

    func audioPublished(_ count: Int) { if count > 0 { audio.add(count, ordering: .relaxed) } }
    func malformed() { malformedFrames.add(1, ordering: .relaxed) }
    func refusedHost() { refusedHosts.add(1, ordering: .relaxed) }
}
