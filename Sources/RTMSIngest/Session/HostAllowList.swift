/// The SSRF guard of SPEC §5.2: a `server_urls` (or media URL) host must match `rtms_allowed_hosts` before the
/// relay opens any connection, because a webhook names the host the relay connects to.
///
/// Patterns are exact host names (`127.0.0.1`, `rtms.zoom.us`) or `*.domain`, which matches any subdomain of
/// `domain` but not `domain` itself. Only `ws` and `wss` URLs pass.
public struct HostAllowList: Sendable, Hashable {
    public var patterns: [String]

    public init(_ patterns: [String]) {
        self.patterns = patterns.map { $0.lowercased() }
    }

    /// The host of a `ws://` / `wss://` URL, lowercased, or nil when the URL is not one.
    public static func host(of url: String) -> String? {
        let lower = url.lowercased()
        let rest: Substring
        if lower.hasPrefix("wss://") { rest = lower.dropFirst(6) }
        else if lower.hasPrefix("ws://") { rest = lower.dropFirst(5) }
        else { return nil }
        var authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        // Userinfo would let `wss://evil@zoom.us` style tricks confuse readers; refuse it outright.
        guard !authority.contains("@"), !authority.isEmpty else { return nil }
        if authority.hasPrefix("[") {
            guard let end = authority.firstIndex(of: "]") else { return nil }
            return String(authority[authority.index(after: authority.startIndex)..<end])
        }
        if let colon = authority.firstIndex(of: ":") {
            let port = authority[authority.index(after: colon)...]
            guard !port.isEmpty, port.allSatisfy(\.isNumber) else { return nil }
            authority = authority[..<colon]
        }
        return authority.isEmpty ? nil : String(authority)
    }

    /// Whether the relay may connect to `url`.
    public func allows(url: String) -> Bool {
        guard let host = Self.host(of: url) else { return false }
        return patterns.contains { pattern in
            if pattern.hasPrefix("*.") {
                let suffix = pattern.dropFirst(1)  // ".zoom.us"
                return host.hasSuffix(suffix) && host.count > suffix.count
            }
            return host == pattern
        }
    }
}
