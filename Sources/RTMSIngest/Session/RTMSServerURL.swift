/// An RTMS signaling or media URL, parsed once and strictly, so the allow-list check and the WebSocket connect
/// see the same host, port and scheme (see docs/rtms-url-rules.md).
///
/// Anything a resolver or WebSocket client could read differently from this parser is refused: control
/// characters and NUL anywhere, spaces, backslashes, `%` and userinfo in the authority, trailing dots, and
/// numeric host forms other than a canonical dotted-quad IPv4 or a bracketed IPv6 literal. The scheme is
/// lower-cased here, so `WSS://` means TLS. `connectString` is rebuilt from the parsed parts and is the only
/// string the relay hands to the WebSocket client.
public struct RTMSServerURL: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable { case ws, wss }

    /// Why a URL was refused; the text goes into `stream.failed` and logs.
    public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    public let scheme: Scheme
    /// Lower-cased host name or IP literal (IPv6 without brackets).
    public let host: String
    /// The port given in the URL, if any.
    public let port: Int?
    /// Path and query as given (path defaults to `/`); the fragment is dropped.
    public let pathAndQuery: String
    /// True for an IPv4 or IPv6 literal, which only an exact allow-list entry admits.
    public let isIPLiteral: Bool

    /// Whether the connection must use TLS.
    public var usesTLS: Bool { scheme == .wss }
    /// The port the connection goes to.
    public var effectivePort: Int { port ?? (usesTLS ? 443 : 80) }
    /// The canonical URL, rebuilt from the parsed parts: what the WebSocket client gets.
    public var connectString: String {
        let authority = host.contains(":") ? "[\(host)]" : host
        return "\(scheme.rawValue)://\(authority)\(port.map { ":\($0)" } ?? "")\(pathAndQuery)"
    }
    public var description: String { connectString }

    /// Parses `string` or throws why it is refused.
    public init(parsing string: String) throws(Refusal) {
        for scalar in string.unicodeScalars {
            if scalar.value < 0x21 || scalar.value == 0x7F { throw Refusal("the URL contains a control character, NUL or space") }
            if scalar.value > 0x7E { throw Refusal("the URL contains a non-ASCII character") }
            if scalar == "\\" { throw Refusal("the URL contains a backslash") }
        }
        guard let schemeEnd = string.firstRange(of: "://") else { throw Refusal("not a ws:// or wss:// URL") }
        guard let scheme = Scheme(rawValue: string[..<schemeEnd.lowerBound].lowercased()) else { throw Refusal("not a ws:// or wss:// URL") }
        let rest = string[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var tail = rest[authorityEnd...]
        if let hash = tail.firstIndex(of: "#") { tail = tail[..<hash] }
        guard !authority.contains("@") else { throw Refusal("the URL carries userinfo") }
        guard !authority.contains("%") else { throw Refusal("the URL's host is percent-encoded") }

        var hostPart: Substring
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw Refusal("unterminated IPv6 literal") }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw Refusal("junk after the IPv6 literal") }
                portPart = after.dropFirst()
            }
            guard Self.isIPv6(hostPart) else { throw Refusal("not a valid IPv6 literal") }
        } else {
            if let colon = authority.firstIndex(of: ":") {
                hostPart = authority[..<colon]
                portPart = authority[authority.index(after: colon)...]
            } else {
                hostPart = authority
            }
        }
        var port: Int?
        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let value = Int(portPart), (1...65535).contains(value) else { throw Refusal("invalid port") }
            port = value
        }
        let host = hostPart.lowercased()
        guard !host.isEmpty else { throw Refusal("the URL has no host") }
        let isIPv6 = authority.hasPrefix("[")
        let isIPv4 = !isIPv6 && Self.isCanonicalIPv4(host)
        if !isIPv6 && !isIPv4 { try Self.checkHostName(host) }
        self.scheme = scheme
        self.host = host
        self.port = port
        self.isIPLiteral = isIPv4 || isIPv6
        self.pathAndQuery = tail.isEmpty || tail.hasPrefix("?") ? "/" + String(tail) : String(tail)
    }

    /// A DNS name of letters, digits and hyphens whose last label is not numeric: anything else (`127.1`,
    /// `0x7f.0.0.1`, `2130706433`) a C resolver may read as an address.
    private static func checkHostName(_ host: String) throws(Refusal) {
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 }) else { throw Refusal("empty label or trailing dot in the host") }
        guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }) else {
            throw Refusal("the host contains a character a host name cannot have")
        }
        guard let last = labels.last, let first = last.first, !first.isNumber else {
            throw Refusal("numeric host forms other than a dotted-quad IPv4 address are refused")
        }
        if labels.allSatisfy({ $0.allSatisfy(\.isHexDigit) || $0.hasPrefix("0x") }) && labels.contains(where: { $0.hasPrefix("0x") }) {
            throw Refusal("numeric host forms other than a dotted-quad IPv4 address are refused")
        }
    }

    private static func isCanonicalIPv4(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy { $0.isASCII && $0.isNumber }
                && (part == "0" || !part.hasPrefix("0")) && (Int(part) ?? 256) <= 255
        }
    }

    private static func isIPv6(_ host: Substring) -> Bool {
        host.contains(":") && host.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }
}
