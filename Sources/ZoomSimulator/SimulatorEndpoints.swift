/// The URLs of a running simulator; ports are the bound ones, so configured port 0 shows here as the real port.
public struct SimulatorEndpoints: Sendable {
    /// Base of `/oauth/authorize` and `/oauth/token` (Zoom's `https://zoom.us`).
    public var oauthBaseURL: String
    /// REST base including `/v2` (Zoom's `https://api.zoom.us/v2`).
    public var apiBaseURL: String
    /// The signaling URL of each RTMS listener: index 0 is where streams start, 1 is the failover target.
    public var signalingURLs: [String]
    /// Per-kind media URLs of each listener, as the signaling handshake response lists them.
    public var mediaURLs: [[String: String]]
    public var httpPort: Int
    public var rtmsPorts: [Int]
}

/// What `startStream` returns: everything a client needs to join, as the started webhook carries it, plus the
/// signature a correct client would compute.
public struct StartedStream: Sendable {
    public var engagementID: String
    public var streamID: String
    public var serverURL: String
    public var signature: String

    /// Describes a stream announced by a `voice_rtms_started` webhook (e.g. one read from `--ready-file`).
    public init(engagementID: String, streamID: String, serverURL: String, signature: String) {
        self.engagementID = engagementID
        self.streamID = streamID
        self.serverURL = serverURL
        self.signature = signature
    }
}

/// A snapshot of one stream for tests and operators.
public struct StreamStatus: Sendable {
    public var streamID: String
    public var engagementID: String
    public var phase: StreamPhase
    public var paused: Bool
    public var signalingConnected: Bool
    public var mediaConnections: Int
    /// Signaling connections ever accepted for this stream (reconnects included, refused duplicates excluded).
    public var signalingConnectionsAccepted: Int
    public var mediaConnectionsAccepted: Int
    /// 20 ms frames sent so far, per `channel_id`.
    public var framesSent: [String: Int]
    /// Transcript segments sent so far (one per finished turn, to a media connection that asked for transcripts).
    public var transcriptsSent: Int
}

/// Errors of the simulator's public API.
public enum SimulatorError: Error, Sendable, Equatable {
    case unknownEngagement
    case invalidState(String)
    case invalidArgument(String)
    case unsupportedAudioFormat(String)

    init(_ error: any Error) {
        switch error {
        case let error as EngagementRegistry.ControlError:
            switch error {
            case .unknownEngagement: self = .unknownEngagement
            case .invalidState(let message): self = .invalidState(message)
            }
        case let error as SimulatorError: self = error
        default: self = .invalidState("\(error)")
        }
    }
}

/// Collects the bound ports as the listeners come up and lets callers wait for them.
actor EndpointBox {
    private let host: String
    private let scheme: String
    private var httpPort: Int?
    private var rtmsPorts: [Int: Int] = [:]
    private var configured = false
    /// Why the listeners will never all be bound (one failed to bind): every waiter gets it.
    private var failure: (any Error)?
    private var waiters: [CheckedContinuation<SimulatorEndpoints, any Error>] = []
    private var configuredWaiters: [CheckedContinuation<SimulatorEndpoints, any Error>] = []

    init(host: String, scheme: String) {
        self.host = host
        self.scheme = scheme
    }

    func setHTTPPort(_ port: Int) {
        httpPort = port
        resumeIfReady()
    }

    func setRTMSPort(listener: Int, port: Int) {
        rtmsPorts[listener] = port
        resumeIfReady()
    }

    func markConfigured() {
        configured = true
        resumeIfReady()
    }

    func mediaURLs(listener: Int) -> [String: String] {
        guard let port = rtmsPorts[listener] else { return [:] }
        return Self.mediaURLs(scheme: scheme, host: host, port: port)
    }

    /// The simulator stopped before every listener was bound (e.g. a port in use): waiters get `error`.
    func fail(_ error: any Error) {
        guard failure == nil, !configured else { return }
        failure = error
        (waiters + configuredWaiters).forEach { $0.resume(throwing: error) }
        waiters = []
        configuredWaiters = []
    }

    /// Waits until every listener is bound; throws why they never will be.
    func wait() async throws -> SimulatorEndpoints {
        if let endpoints = current() { return endpoints }
        if let failure { throw failure }
        return try await withCheckedThrowingContinuation { waiters.append($0) }
    }

    /// Waits until the listeners are bound and the rest of the simulator knows their URLs; throws why they never
    /// will be.
    func waitConfigured() async throws -> SimulatorEndpoints {
        if configured, let endpoints = current() { return endpoints }
        if let failure { throw failure }
        return try await withCheckedThrowingContinuation { configuredWaiters.append($0) }
    }

    private func resumeIfReady() {
        guard let endpoints = current() else { return }
        waiters.forEach { $0.resume(returning: endpoints) }
        waiters = []
        if configured {
            configuredWaiters.forEach { $0.resume(returning: endpoints) }
            configuredWaiters = []
        }
    }

    private func current() -> SimulatorEndpoints? {
        guard let httpPort, let primary = rtmsPorts[0], let secondary = rtmsPorts[1] else { return nil }
        let ports = [primary, secondary]
        return SimulatorEndpoints(
            oauthBaseURL: "http://\(host):\(httpPort)", apiBaseURL: "http://\(host):\(httpPort)/v2",
            signalingURLs: ports.map { "\(scheme)://\(host):\($0)/signaling" },
            mediaURLs: ports.map { Self.mediaURLs(scheme: scheme, host: host, port: $0) },
            httpPort: httpPort, rtmsPorts: ports)
    }

    static func mediaURLs(scheme: String, host: String, port: Int) -> [String: String] {
        // A ZCC app's scopes give audio and transcript (plus `all`).
        var urls: [String: String] = [:]
        for kind in [MediaURLKind.audio, .transcript, .all] { urls[kind.rawValue] = "\(scheme)://\(host):\(port)/media/\(kind.rawValue)" }
        return urls
    }
}

/// One WebSocket frame to inject as it is (`ZoomSimulator.sendRawFrames`).
public enum RawFrame: Sendable {
    case text(String)
    case binary([UInt8])
}

/// How the simulated REST API misbehaves (`ZoomSimulator.setRESTFault`).
public enum RESTFault: Sendable {
    /// Answer every RTMS status request with this HTTP status and a plain-text body (e.g. 500, 503).
    case status(Int)
    /// Wait this long before handling each request (a slow or hung Zoom).
    case delay(Duration)
}
