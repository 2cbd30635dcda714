/// The SSRF guard: a `server_urls` (or media URL) host must match `rtms_allowed_hosts` before the relay opens
/// any connection, because a webhook names the host the relay connects to.
///
/// Patterns are exact host names (`rtms.zoom.us`), exact IP literals (`127.0.0.1`, `::1`) or `*.domain`, which
/// matches any subdomain of `domain` but not `domain` itself. An IP literal passes only when listed exactly.
/// URLs are parsed once by `RTMSServerURL`; the parsed value that passed is the one the relay connects to.
/// Only `wss` passes unless `allowInsecure` (`zoom.allow_insecure_rtms`) admits `ws` too.
public struct HostAllowList: Sendable, Hashable {
    public var patterns: [String]
    /// Whether plain `ws://` URLs may pass (local simulators and tests only: Zoom documents `wss://` only).
    public var allowInsecure: Bool

    public init(_ patterns: [String], allowInsecure: Bool = false) {
        self.patterns = patterns.map { pattern in
            let lower = pattern.lowercased()
            return lower.hasPrefix("[") && lower.hasSuffix("]") ? String(lower.dropFirst().dropLast()) : lower
        }
        self.allowInsecure = allowInsecure
    }

    /// The host of a `ws://` / `wss://` URL as `RTMSServerURL` parses it, or nil when the URL does not parse.
    public static func host(of url: String) -> String? {
        try? RTMSServerURL(parsing: url).host
    }

    /// Parses `url` and checks it: the parsed URL to connect to, or why it is refused.
    public func check(_ url: String) -> Result<RTMSServerURL, RTMSServerURL.Refusal> {
        let parsed: RTMSServerURL
        do { parsed = try RTMSServerURL(parsing: url) } catch { return .failure(error) }
        guard parsed.usesTLS || allowInsecure else {
            return .failure(.init("host '\(parsed.host)': ws:// is refused unless zoom.allow_insecure_rtms is true"))
        }
        let host = parsed.host
        let matches = patterns.contains { pattern in
            if pattern.hasPrefix("*.") {
                guard !parsed.isIPLiteral else { return false }
                let suffix = pattern.dropFirst(1)  // ".zoom.us"
                return host.hasSuffix(suffix) && host.count > suffix.count
            }
            return host == pattern
        }
        return matches ? .success(parsed) : .failure(.init("host '\(host)' is not in rtms_allowed_hosts"))
    }

    /// Whether the relay may connect to `url`.
    public func allows(url: String) -> Bool {
        if case .success = check(url) { true } else { false }
    }
}
