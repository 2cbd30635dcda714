import Foundation

/// The HTTP proxy the relay's outbound connections go through (`zoom.proxy`, else `HTTPS_PROXY`): Zoom's OAuth
/// and REST calls and the RTMS WebSockets. Encrypted targets are reached through a `CONNECT` tunnel, so TLS
/// still runs end to end with the target (the proxy sees only the host and port); plain `http://` targets are
/// sent to the proxy in absolute form.
///
/// Only `http://[user:password@]host:port` is accepted: a proxy reached over TLS, or a SOCKS proxy, is refused
/// at start-up rather than silently bypassed.
public struct OutboundProxy: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// `user:password` for `Proxy-Authorization: Basic`, when the URL carries them.
    public var credentials: Secret?

    /// Parses a proxy URL; `key` names where it came from in the error (`proxy`, `HTTPS_PROXY`).
    public init(url text: String, key: String) throws(OptionError) {
        func refuse(_ why: String) -> OptionError {
            OptionError(key: key, "'\(Self.redacted(text))' \(why); expected http://[user:password@]host:port")
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw refuse("is not a URL")
        }
        guard scheme == "http" else {
            throw refuse(scheme == "https" ? "is a proxy reached over TLS, which is not supported (the tunnel inside is encrypted either way)"
                                           : "uses \(scheme)://, which is not supported")
        }
        guard let host = components.host, !host.isEmpty else { throw refuse("names no host") }
        guard let port = components.port else { throw refuse("names no port") }
        guard (1...65_535).contains(port) else { throw refuse("has port \(port), outside 1–65535") }
        guard components.path.isEmpty || components.path == "/", components.query == nil, components.fragment == nil else {
            throw refuse("has a path or query, which a proxy URL does not take")
        }
        self.host = host
        self.port = port
        if let user = components.user {
            credentials = Secret("\(user.removingPercentEncoding ?? user):\((components.password ?? "").removingPercentEncoding ?? "")")
        }
    }

    /// The `Proxy-Authorization` header value, when there are credentials.
    public var authorization: String? {
        credentials.map { "Basic " + Base64.encode(Array($0.value.utf8)) }
    }

    /// `http://host:port`, with any user and password redacted.
    public var description: String {
        let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        return "http://" + (credentials == nil ? "" : "[redacted]@") + authority
    }

    private static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let scheme = text.range(of: "://"), scheme.upperBound <= at else { return text }
        return String(text[..<scheme.upperBound]) + "[redacted]" + String(text[at...])
    }
}
