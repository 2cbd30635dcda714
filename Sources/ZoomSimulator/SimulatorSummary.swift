import Foundation

/// What `rtms-relay simulate --summary-file` writes at exit: Zoom's side of the calls, which a load test or an
/// end-to-end test compares the relay's counts with. One type for the writer and every reader.
public struct SimulatorSummary: Codable, Sendable {
    public var streams: Int
    public var streamsStopped: Int
    public var audioFramesSent: Int
    public var signalingConnectionsAccepted: Int
    public var mediaConnectionsAccepted: Int
    public var audioFramesSentPerStream: [String: Int]
    /// `RTMSStopReason` raw values; 20 (`receiverRequestedClose`) only when the client sent STREAM_CLOSE_REQ.
    public var stopReasonPerStream: [String: Int]

    public init(streams: Int, streamsStopped: Int, audioFramesSent: Int, signalingConnectionsAccepted: Int,
                mediaConnectionsAccepted: Int, audioFramesSentPerStream: [String: Int], stopReasonPerStream: [String: Int]) {
        self.streams = streams
        self.streamsStopped = streamsStopped
        self.audioFramesSent = audioFramesSent
        self.signalingConnectionsAccepted = signalingConnectionsAccepted
        self.mediaConnectionsAccepted = mediaConnectionsAccepted
        self.audioFramesSentPerStream = audioFramesSentPerStream
        self.stopReasonPerStream = stopReasonPerStream
    }

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    public init(path: String) throws {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        self = try decoder.decode(Self.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
