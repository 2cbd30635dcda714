/// Decodes `Decodable` values from a `ConfigNode` strictly: an unknown key, a wrong type or a missing value
/// is a `ConfigError` naming the file, the line and the key path (`sinks.qa_recordings.directory`).
///
/// Strictness works with synthesized `Decodable` conformances: every key a type asks for (present or not)
/// is recorded per mapping, and once decoding finishes any key nobody asked for is reported as unknown,
/// with the closest asked-for key as a suggestion. `${VAR}` references in scalars are substituted as they
/// are read, so errors in them point at the right line.
public struct ConfigDecoder: Sendable {
    public let file: String
    public let environment: [String: String]

    public init(file: String, environment: [String: String]) {
        self.file = file
        self.environment = environment
    }

    /// Decodes `type` from `node`, whose key path is `path` (empty for the document root).
    public func decode<T: Decodable>(_ type: T.Type, from node: ConfigNode, path: [String] = [], keyLine: Int? = nil) throws -> T {
        try decode(from: node, path: path, keyLine: keyLine) { try T(from: $0) }
    }

    /// Decodes with a custom function (a sink factory's), with the same strictness. `keyLine` is the line of
    /// the key that names `node` (where "missing key" errors point); the node's own line when nil.
    public func decode<T>(from node: ConfigNode, path: [String], keyLine: Int? = nil, using body: (any Decoder) throws -> T) throws -> T {
        let session = DecodingSession(file: file, environment: environment)
        let value: T
        do {
            value = try body(NodeDecoder(node: node, path: path, keyLine: keyLine ?? node.line, session: session))
        } catch let error as ConfigError {
            throw error
        } catch let error as OptionError {
            let line = node[error.key]?.line ?? node.line
            throw ConfigError(file: file, line: line, message: "\(Self.join(path + [error.key])): \(error.message)")
        } catch {
            throw ConfigError(file: file, line: node.line, message: "\(Self.join(path)): \(error)")
        }
        try session.checkUnknownKeys()
        return value
    }

    static func join(_ path: [String]) -> String {
        path.isEmpty ? "the document" : path.joined(separator: ".")
    }
}

/// State shared by all containers of one decode: which keys each mapping was asked for.
final class DecodingSession {
    let file: String
    let environment: [String: String]
    /// Per visited mapping (by its path): the node and the keys requested, or nil when all keys were read.
    private var visited: [(path: [String], node: ConfigNode, requested: Set<String>?)] = []
    private var index: [[String]: Int] = [:]

    init(file: String, environment: [String: String]) {
        self.file = file
        self.environment = environment
    }

    func visit(_ node: ConfigNode, path: [String]) {
        if index[path] == nil {
            index[path] = visited.count
            visited.append((path, node, []))
        }
    }

    func request(_ key: String, at path: [String]) {
        if let i = index[path] { visited[i].requested?.insert(key) }
    }

    func requestAll(at path: [String]) {
        if let i = index[path] { visited[i].requested = nil }
    }

    func checkUnknownKeys() throws {
        var problems: [ConfigError] = []
        for (path, node, requested) in visited {
            guard let requested, case .mapping(let entries, _) = node else { continue }
            for entry in entries where !requested.contains(entry.key) {
                var message = "unknown key '\(entry.key)' in \(ConfigDecoder.join(path))"
                if let guess = suggestion(for: entry.key, among: requested.sorted()) {
                    message += " (did you mean '\(guess)'?)"
                }
                problems.append(ConfigError(file: file, line: entry.keyLine, message: message))
            }
        }
        if !problems.isEmpty { throw ConfigError(all: problems) }
    }

    func error(_ node: ConfigNode, _ path: [String], _ message: String) -> ConfigError {
        ConfigError(file: file, line: node.line, message: "\(ConfigDecoder.join(path)): \(message)")
    }
}

struct PathKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

struct NodeDecoder: Decoder {
    let node: ConfigNode
    let path: [String]
    /// The line of the key naming this node, where "missing key" errors point.
    let keyLine: Int
    let session: DecodingSession
    var codingPath: [any CodingKey] { path.map { PathKey(stringValue: $0) } }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .mapping(let entries, _) = node else {
            throw session.error(node, path, "expected a mapping, found \(node.kindDescription)")
        }
        session.visit(node, path: path)
        return KeyedDecodingContainer(KeyedNodeContainer<Key>(node: node, entries: entries, path: path, keyLine: keyLine, session: session))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .sequence(let items, _) = node else {
            throw session.error(node, path, "expected a list, found \(node.kindDescription)")
        }
        return UnkeyedNodeContainer(items: items, path: path, session: session)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        ScalarNodeContainer(decoder: self)
    }
}

struct KeyedNodeContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let node: ConfigNode
    let entries: [ConfigNode.Entry]
    let path: [String]
    let keyLine: Int
    let session: DecodingSession
    var codingPath: [any CodingKey] { path.map { PathKey(stringValue: $0) } }

    var allKeys: [Key] {
        session.requestAll(at: path)
        return entries.compactMap { Key(stringValue: $0.key) }
    }

    func contains(_ key: Key) -> Bool {
        session.request(key.stringValue, at: path)
        return entries.contains { $0.key == key.stringValue }
    }

    private func child(_ key: Key) throws -> ConfigNode.Entry {
        session.request(key.stringValue, at: path)
        guard let entry = entries.first(where: { $0.key == key.stringValue }) else {
            throw ConfigError(file: session.file, line: keyLine, message: "missing key '\(key.stringValue)' in \(ConfigDecoder.join(path))")
        }
        return entry
    }

    private func decoder(for entry: ConfigNode.Entry) -> NodeDecoder {
        NodeDecoder(node: entry.value, path: path + [entry.key], keyLine: entry.keyLine, session: session)
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        session.request(key.stringValue, at: path)
        return entries.first { $0.key == key.stringValue }?.value.isNull ?? true
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decodeValue(type, decoder: decoder(for: child(key)))
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        session.request(key.stringValue, at: path)
        guard let entry = entries.first(where: { $0.key == key.stringValue }), !entry.value.isNull else { return nil }
        return try decodeValue(type, decoder: decoder(for: entry))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder(for: child(key)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder(for: child(key)).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        NodeDecoder(node: node, path: path, keyLine: keyLine, session: session)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        decoder(for: try child(key))
    }
}

struct UnkeyedNodeContainer: UnkeyedDecodingContainer {
    let items: [ConfigNode]
    let path: [String]
    let session: DecodingSession
    var currentIndex = 0
    var codingPath: [any CodingKey] { path.map { PathKey(stringValue: $0) } }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private mutating func next() throws -> NodeDecoder {
        guard !isAtEnd else {
            throw ConfigError(file: session.file, line: items.last?.line ?? 0, message: "\(ConfigDecoder.join(path)): not enough items")
        }
        defer { currentIndex += 1 }
        let item = items[currentIndex]
        return NodeDecoder(node: item, path: path + ["\(currentIndex)"], keyLine: item.line, session: session)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decodeValue(type, decoder: next())
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next().unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        try next()
    }
}

struct ScalarNodeContainer: SingleValueDecodingContainer {
    let decoder: NodeDecoder
    var node: ConfigNode { decoder.node }
    var path: [String] { decoder.path }
    var session: DecodingSession { decoder.session }
    var codingPath: [any CodingKey] { path.map { PathKey(stringValue: $0) } }

    func decodeNil() -> Bool { node.isNull }

    /// The scalar's text with `${VAR}` references substituted.
    private func text(expecting expected: String) throws -> String {
        guard case .scalar(let raw, _, _) = node, !node.isNull else {
            throw session.error(node, path, "expected \(expected), found \(node.kindDescription)")
        }
        do {
            return try EnvironmentSubstitution.substitute(raw, environment: session.environment)
        } catch let error as EnvironmentSubstitution.Failure {
            throw session.error(node, path, error.description)
        }
    }

    func decode(_ type: String.Type) throws -> String { try text(expecting: "a string") }

    func decode(_ type: Bool.Type) throws -> Bool {
        switch try text(expecting: "true or false") {
        case "true", "True", "TRUE", "yes", "on": return true
        case "false", "False", "FALSE", "no", "off": return false
        case let other: throw session.error(node, path, "expected true or false, found '\(other)'")
        }
    }

    private func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let value = try text(expecting: "an integer")
        let digits = value.replacingOccurrences(of: "_", with: "")
        guard let number = T(digits) else {
            if let wide = Int64(digits) {
                throw session.error(node, path, "\(wide) is out of range (\(T.min)...\(T.max))")
            }
            throw session.error(node, path, "expected an integer, found '\(value)'")
        }
        return number
    }

    private func floating(_ expected: String = "a number") throws -> Double {
        let value = try text(expecting: expected)
        guard let number = Double(value) else { throw session.error(node, path, "expected \(expected), found '\(value)'") }
        return number
    }

    func decode(_ type: Double.Type) throws -> Double { try floating() }
    func decode(_ type: Float.Type) throws -> Float { Float(try floating()) }
    func decode(_ type: Int.Type) throws -> Int { try integer(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decodeValue(type, decoder: decoder)
    }
}

/// Decodes one value, turning errors thrown by the type itself (an enum given an unknown raw value) into a
/// `ConfigError` at the value's line, listing the allowed values when the type can enumerate them.
func decodeValue<T: Decodable>(_ type: T.Type, decoder: NodeDecoder) throws -> T {
    let (node, path, session) = (decoder.node, decoder.path, decoder.session)
    do {
        return try T(from: decoder)
    } catch let error as ConfigError {
        throw error
    } catch let error as OptionError {
        throw session.error(node[error.key] ?? node, path + [error.key], error.message)
    } catch {
        if let cases = T.self as? any CaseIterable.Type {
            let allowed = allowedValues(cases)
            if case .scalar(let text, _, _) = node {
                var message = "'\(text)' is not one of \(allowed.joined(separator: ", "))"
                if let guess = suggestion(for: text, among: allowed) { message += " (did you mean '\(guess)'?)" }
                throw session.error(node, path, message)
            }
        }
        throw session.error(node, path, "invalid value: \(error)")
    }
}

private func allowedValues<C: CaseIterable>(_ type: C.Type) -> [String] {
    C.allCases.map { value in
        if let raw = value as? any RawRepresentable { return "\(raw.rawValue)" }
        return "\(value)"
    }
}
