import Foundation

/// A parsed `redis://[user:password@]host[:port][/db]` URL. Its description never shows the password.
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// The ACL user for `AUTH user password` (Redis 6+); nil sends `AUTH password`.
    public var user: String?
    public var password: String?
    /// The logical database for `SELECT`.
    public var database: Int

    public init(host: String = "127.0.0.1", port: Int = 6379, user: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }

    /// Parses `text`; throws `RedisError.invalidURL` saying what is wrong.
    public init(_ text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw RedisError.invalidURL("'\(Self.redacted(text))' is not a URL (expected redis://host:port/db)")
        }
        guard scheme == "redis" else {
            throw RedisError.invalidURL("scheme '\(scheme)' is not supported (use redis://; TLS is not available in this build)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw RedisError.invalidURL("'\(Self.redacted(text))' has no host")
        }
        self.host = host
        port = components.port ?? 6379
        let user = components.percentEncodedUser.flatMap { $0.removingPercentEncoding }
        self.user = (user?.isEmpty ?? true) ? nil : user
        password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        if password == nil, let user = self.user {
            // `redis://secret@host` — a lone user-info part is the password, as redis-cli reads it.
            password = user
            self.user = nil
        }
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if path.isEmpty {
            database = 0
        } else if let database = Int(path), database >= 0 {
            self.database = database
        } else {
            throw RedisError.invalidURL("database '\(path)' is not a number (redis://host:port/0)")
        }
    }

    public var description: String {
        let credentials = password == nil ? "" : "\(user ?? ""):[redacted]@"
        return "redis://\(credentials)\(host):\(port)/\(database)"
    }

    private static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let scheme = text.range(of: "://") else { return text }
        return String(text[..<scheme.upperBound]) + "[redacted]" + String(text[at...])
    }
}
