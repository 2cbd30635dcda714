/// Why a Redis call failed.
public enum RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The URL cannot be used.
    case invalidURL(String)
    /// Connecting, writing or reading failed; the connection was dropped and the next command reconnects.
    /// `repliesRead` replies of a pipeline arrived before the failure (those commands ran).
    case connection(String, repliesRead: Int)
    /// The server refused the connection's set-up (`AUTH`, `SELECT`).
    case rejected(String)
    /// A reply had a shape the caller did not expect.
    case unexpectedReply(String)

    /// True when retrying later (after a reconnect) may succeed.
    public var isConnectionFailure: Bool {
        if case .connection = self { true } else { false }
    }

    public var description: String {
        switch self {
        case .invalidURL(let detail): "invalid Redis URL: \(detail)"
        case .connection(let detail, _): "Redis connection failed: \(detail)"
        case .rejected(let detail): "Redis refused the connection: \(detail) (check the password and database in the URL)"
        case .unexpectedReply(let detail): "unexpected Redis reply: \(detail)"
        }
    }
}
