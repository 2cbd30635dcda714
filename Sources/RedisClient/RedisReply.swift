/// A decoded Redis reply (RESP2).
public enum RedisReply: Sendable, Hashable {
    /// `+OK`.
    case status(String)
    /// `-ERR …`: the command failed; the connection is fine.
    case error(String)
    case integer(Int64)
    /// A bulk string, binary-safe.
    case bulk([UInt8])
    /// A nil bulk string or array.
    case null
    case array([RedisReply])

    /// The text of a bulk string or status reply.
    public var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    public var integer: Int64? {
        if case .integer(let value) = self { value } else { nil }
    }

    public var array: [RedisReply]? {
        if case .array(let elements) = self { elements } else { nil }
    }

    /// The message of an error reply.
    public var errorMessage: String? {
        if case .error(let message) = self { message } else { nil }
    }

    /// An error reply that goes away by itself (the server is loading its data set, busy with a script, or a
    /// replica without its primary): worth retrying, unlike `WRONGTYPE` or a syntax error.
    public var isTransientError: Bool {
        guard let message = errorMessage else { return false }
        return ["LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN"].contains { message.hasPrefix($0) }
    }
}
