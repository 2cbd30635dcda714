/// A configuration problem, printed as one line people can act on:
/// `config.yaml:14: unknown key 'directry' in sinks.qa_recordings (did you mean 'directory'?)`.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file (or `<embedded defaults>`), the 1-based line (0 when unknown) and the message.
    public var file: String
    public var line: Int
    public var message: String
    /// Further errors found in the same file, in line order: a config is checked whole, so that one run
    /// lists every mistake.
    public var others: [ConfigError] = []

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `errors` (not empty) as one error: the first by line, carrying the rest.
    init(all errors: [ConfigError]) {
        let flat = errors.flatMap { [ConfigError(file: $0.file, line: $0.line, message: $0.message)] + $0.others }
            .sorted { $0.line < $1.line }
        self = flat[0]
        others = Array(flat.dropFirst())
    }

    /// Every error, one line each: this one, then `others`.
    public var lines: [String] {
        [line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)"] + others.map { $0.lines[0] }
    }

    public var description: String { lines.joined(separator: "\n") }
}

/// A value that decoding alone cannot refuse (out of range, a URL that does not parse), named by its key relative to
/// what is being decoded: a sink's options, a section, a queue policy. Sinks and settings throw it; the config
/// decoder and `SinkAssembly` turn it into a `ConfigError` at the key's line, and nothing else does.
public struct OptionError: Error, CustomStringConvertible, Sendable {
    public var key: String
    public var message: String

    public init(key: String, _ message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "\(key): \(message)" }
}

/// Closest candidate to a misspelt key, when it is close enough to be a likely typo.
func suggestion(for key: String, among candidates: some Sequence<String>) -> String? {
    var best: (String, Int)?
    for candidate in candidates {
        let distance = editDistance(key.lowercased(), candidate.lowercased())
        if distance <= max(1, candidate.count / 3), best == nil || distance < best!.1 {
            best = (candidate, distance)
        }
    }
    return best?.0
}

/// Edit distance counting a swap of two neighbours as one edit (optimal string alignment), so `prot`
/// is one edit from `port`.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var beforePrevious = Array(0...b.count)
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                current[j] = min(current[j], beforePrevious[j - 2] + 1)
            }
        }
        beforePrevious = previous
        previous = current
    }
    return previous[b.count]
}
