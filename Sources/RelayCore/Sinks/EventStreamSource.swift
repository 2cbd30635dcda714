/// One Server-Sent Events message (or a comment), already in the shape browsers read.
///
/// Lives in the core so the sink that produces messages (the web sink) and the HTTP route that writes them
/// (in RelayServer) agree on the format without knowing each other.
public struct ServerSentEvent: Sendable, Hashable {
    /// `id:`, what the browser sends back as `Last-Event-ID` when it reconnects.
    public var id: UInt64?
    /// `event:` (e.g. `status`, `stream`, `level`); nil for the default `message`.
    public var event: String?
    /// `data:`, one line per line of text.
    public var data: String
    /// A comment (`: …`), which browsers ignore: heartbeats.
    public var comment: String?

    public init(id: UInt64? = nil, event: String? = nil, data: String) {
        self.id = id
        self.event = event
        self.data = data
        self.comment = nil
    }

    /// A comment-only message, which keeps proxies and browsers from timing the connection out.
    public static func comment(_ text: String) -> ServerSentEvent {
        var message = ServerSentEvent(data: "")
        message.comment = text
        return message
    }

    /// The wire form: fields, then a blank line.
    public var encoded: String {
        var text = ""
        if let comment {
            text += ": \(comment.replacingNewlines)\n"
            if data.isEmpty, id == nil, event == nil { return text + "\n" }
        }
        if let id { text += "id: \(id)\n" }
        if let event { text += "event: \(event.replacingNewlines)\n" }
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) {
            text += "data: \(line)\n"
        }
        return text + "\n"
    }
}

extension String {
    fileprivate var replacingNewlines: String {
        String(map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}

/// Which engagements one browser's feed carries.
public enum EventScope: Sendable {
    /// One engagement (the agent page).
    case engagement(String)
    /// Every engagement (the operator's firehose).
    case all
    /// Every engagement `includes` lets through (a supervisor's account). Called for each message while the
    /// source holds its lock, so it must be quick and must not call back into the source.
    case filtered(@Sendable (String) -> Bool)

    /// Whether a message of `engagement` belongs in the feed.
    public func includes(_ engagement: String) -> Bool {
        switch self {
        case .engagement(let id): id == engagement
        case .all: true
        case .filtered(let includes): includes(engagement)
        }
    }

    /// The one engagement, for a single-engagement feed.
    public var engagement: String? {
        if case .engagement(let id) = self { return id }
        return nil
    }
}

/// Something the HTTP server can stream to browsers as Server-Sent Events (`GET /api/events`).
///
/// The web sink offers one as an `EventFeedSink`; RelayServer finds it by that protocol among the sinks it
/// built, so neither side imports the other.
public protocol EventStreamSource: Sendable {
    /// A live feed of the messages `scope` lets through. With `lastEventID`, messages after that id still held
    /// in the replay buffer come first; without it, the recent history. The stream finishes when the subscriber
    /// falls too far behind (a slow or stalled browser) or the relay shuts down; the browser then reconnects
    /// with `Last-Event-ID`.
    func subscribe(scope: EventScope, lastEventID: UInt64?) -> EventSubscription
}

/// A browser's feed: the messages, and a way to end it early (the connection closed, the relay is stopping).
public struct EventSubscription: Sendable {
    /// Messages in order; finishes when the subscriber is dropped or cancelled.
    public let messages: AsyncStream<ServerSentEvent>
    private let onCancel: @Sendable () -> Void

    public init(messages: AsyncStream<ServerSentEvent>, cancel: @escaping @Sendable () -> Void) {
        self.messages = messages
        self.onCancel = cancel
    }

    /// Ends the feed; `messages` finishes after what is already queued.
    public func cancel() { onCancel() }
}

/// A sink that serves a live feed to browsers (the web sink): `GET /api/events` streams its `feed`.
public protocol EventFeedSink: Sink {
    var feed: any EventStreamSource { get }
}
