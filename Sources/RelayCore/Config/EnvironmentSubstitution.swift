/// `${VAR}` and `${VAR:-default}` in config values, replaced from the environment (README.md, "Configuration").
public enum EnvironmentSubstitution {
    /// Why a substitution failed.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// `text` with every reference replaced. `${VAR}` with VAR unset is an error; `${VAR:-x}` gives `x` when
    /// VAR is unset or empty; `$${` writes a literal `${`.
    public static func substitute(_ text: String, environment: [String: String]) throws -> String {
        guard text.contains("$") else { return text }
        var output = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            output += rest[..<dollar]
            let afterDollar = rest.index(after: dollar)
            if rest[afterDollar...].hasPrefix("${") {
                // `$${` is an escaped literal `${`.
                output += "${"
                rest = rest[rest.index(afterDollar, offsetBy: 2)...]
                continue
            }
            guard rest[afterDollar...].hasPrefix("{") else {
                output += "$"
                rest = rest[afterDollar...]
                continue
            }
            guard let close = rest[afterDollar...].firstIndex(of: "}") else {
                throw Failure(description: "unterminated '${' in '\(text)'")
            }
            let body = rest[rest.index(after: afterDollar)..<close]
            let name: Substring
            let fallback: Substring?
            if let separator = body.range(of: ":-") {
                name = body[..<separator.lowerBound]
                fallback = body[separator.upperBound...]
            } else {
                name = body
                fallback = nil
            }
            guard isValidName(name) else {
                throw Failure(description: "invalid variable name '\(name)' in '${\(body)}'")
            }
            if let value = environment[String(name)], !(fallback != nil && value.isEmpty) {
                output += value
            } else if let fallback {
                output += fallback
            } else {
                throw Failure(description: "environment variable \(name) is not set (write ${\(name):-default} to allow that)")
            }
            rest = rest[rest.index(after: close)...]
        }
        output += rest
        return output
    }

    private static func isValidName(_ name: Substring) -> Bool {
        guard let first = name.first, first == "_" || first.isLetter else { return false }
        return name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }
}
