/// The scheme, host and port of a URL: what a browser sends in `Origin`, and what the relay compares to
/// `server.public_url` to refuse cross-site requests and to keep `allow_anonymous` on this machine.
///
/// Parsing is strict on purpose: a host with anything but letters, digits, `-`, `.` and `_` (or a bracketed
/// IPv6 literal), user info, or a bad port gives nil, so odd input is refused rather than guessed at.
public struct WebOrigin: Sendable, Hashable, CustomStringConvertible {
    /// Lower-cased, e.g. `https`.
    public var scheme: String
    /// Lower-cased; IPv6 literals keep their brackets (`[::1]`).
    public var host: String
    /// The explicit port, or the scheme's default (80, 443).
    public var port: Int

    /// The origin of an absolute URL (`https://relay.example.com/path` → `https://relay.example.com:443`).
    public init?(url: String) {
        guard let separator = url.range(of: "://") else { return nil }
        let scheme = url[..<separator.lowerBound].lowercased()
        let rest = url[separator.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        self.init(scheme: scheme, authority: String(authority))
    }

    /// The origin of `authority` (`host[:port]`, as in a `Host` header) under `scheme`.
    public init?(scheme: String, authority: String) {
        let defaultPort: Int
        switch scheme {
        case "http": defaultPort = 80
        case "https": defaultPort = 443
        default: return nil
        }
        var host = Substring(authority)
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { return nil }
                portText = after.dropFirst()
            }
            guard host.dropFirst().dropLast().allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        } else {
            let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return nil }
            host = parts[0]
            if parts.count == 2 { portText = parts[1] }
            guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_") }) else { return nil }
        }
        guard host.count > (host.hasPrefix("[") ? 2 : 0) else { return nil }
        var port = defaultPort
        if let portText {
            guard (1...5).contains(portText.count), portText.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(portText), (1...65535).contains(value) else { return nil }
            port = value
        }
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = port
    }

    /// True when the host is a name only this machine answers to (`ServerSettings.isLoopback`).
    public var isLoopback: Bool { ServerSettings.isLoopback(host) }

    /// `scheme://host:port`.
    public var description: String { "\(scheme)://\(host):\(port)" }
}
