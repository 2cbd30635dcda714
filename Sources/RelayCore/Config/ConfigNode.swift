import Yams

/// A parsed YAML document as plain values with line numbers, so decoding errors can name the line and the
/// tree can cross concurrency domains (Yams' own nodes cannot).
public indirect enum ConfigNode: Sendable, Equatable {
    case scalar(String, plain: Bool, line: Int)
    case mapping([Entry], line: Int)
    case sequence([ConfigNode], line: Int)

    /// One `key: value` pair of a mapping.
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var keyLine: Int
        public var value: ConfigNode
    }

    /// The 1-based line the node starts on.
    public var line: Int {
        switch self {
        case .scalar(_, _, let line), .mapping(_, let line), .sequence(_, let line): line
        }
    }

    /// True for YAML's null (`~`, `null`, or nothing after the colon).
    public var isNull: Bool {
        if case .scalar(let text, let plain, _) = self, plain {
            return text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
        }
        return false
    }

    /// The value under `key` in a mapping.
    public subscript(key: String) -> ConfigNode? {
        if case .mapping(let entries, _) = self { return entries.first { $0.key == key }?.value }
        return nil
    }

    /// A short description of the node's kind, for "expected …, found …" messages.
    var kindDescription: String {
        switch self {
        case .scalar(let text, _, _): isNull ? "nothing" : "'\(text)'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        }
    }

    /// Parses YAML text. Throws `ConfigError` for YAML syntax errors, duplicate keys (found by Yams) and
    /// non-scalar keys.
    public static func parse(yaml: String, file: String) throws -> ConfigNode? {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            let line = Self.line(of: error)
            throw ConfigError(file: file, line: line, message: Self.plainWords(for: Self.describe(error), line: line, of: yaml))
        }
        guard let node else { return nil }
        return try convert(node, file: file)
    }

    private static func convert(_ node: Node, file: String) throws -> ConfigNode {
        let line = (node.mark?.line ?? 0)
        switch node {
        case .scalar(let scalar):
            return .scalar(scalar.string, plain: scalar.style == .plain, line: line)
        case .sequence(let sequence):
            return .sequence(try sequence.map { try convert($0, file: file) }, line: line)
        case .mapping(let mapping):
            var entries: [Entry] = []
            for (key, value) in mapping {
                let keyLine = key.mark?.line ?? line
                guard case .scalar(let keyScalar) = key else {
                    throw ConfigError(file: file, line: keyLine, message: "mapping keys must be plain strings")
                }
                entries.append(Entry(key: keyScalar.string, keyLine: keyLine, value: try convert(value, file: file)))
            }
            return .mapping(entries, line: line)
        case .alias:
            throw ConfigError(file: file, line: line, message: "YAML aliases are not supported")
        }
    }

    private static func line(of error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        case .duplicatedKeysInMapping(_, let context):
            return context.mark.line
        default:
            return 0
        }
    }

    /// The YAML library's complaint in words an operator acts on, for the mistakes people make by hand; others
    /// keep the library's wording.
    static func plainWords(for problem: String, line: Int, of yaml: String) -> String {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        let text = line > 0 && line <= lines.count ? lines[line - 1] : ""
        if text.prefix(while: { $0 == " " || $0 == "\t" }).contains("\t") || (problem.contains("cannot start any token") && text.contains("\t")) {
            return "a tab in this line: YAML indents with spaces only"
        }
        if problem.contains("mapping values are not allowed") {
            return "a ':' where none can be: quote a value that holds ': ', or look for a missing ':' on the line above"
        }
        if problem.contains("could not find expected ':'") {
            return "a line that is not 'key: value' (a missing ':'?)"
        }
        if problem.contains("did not find expected key") || problem.contains("did not find expected '-' indicator") {
            return "this line's indentation does not match the keys above it"
        }
        if problem.contains("found unexpected end of stream") || problem.contains("found unknown escape character") {
            return "an unclosed or broken quoted string"
        }
        return "invalid YAML: \(problem)"
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _), .composer(let context, let problem, _, _):
            return [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        case .duplicatedKeysInMapping(let duplicates, _):
            return "duplicate key " + duplicates.map { "'\($0)'" }.joined(separator: ", ") + " (in the mapping that starts here)"
        default:
            return "\(error)"
        }
    }
}
