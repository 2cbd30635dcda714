/// One option of a sink, declared once: its YAML key (a case of the options' `CodingKeys`), its type as the
/// docs say it, its default and what it does. Decoding (`container.decode(option)`), the `check-config`
/// listing (`documentation`) and the value a sink gets when the key is absent (`default`) all come from it;
/// `Tests/RelayCoreTests/SinkOptionsDocumentedTests.swift` checks `config.yaml.example` against it.
///
/// ```swift
/// enum Declared {
///     static let maxFiles = SinkOption(CodingKeys.maxFiles, "integer", default: 5, "rotated files to keep")
/// }
/// public var maxFiles = Declared.maxFiles.default
/// ```
public struct SinkOption<Key: CodingKey & Sendable, Value: Decodable & Sendable>: Sendable {
    public let key: Key
    public let type: String
    /// nil for a required option.
    public let defaultValue: Value?
    public let help: String
    private let shownDefault: String?

    /// An option with a default. `shown` is how the docs write the default when `"\(value)"` would not do
    /// (a secret prints redacted).
    public init(_ key: Key, _ type: String, default defaultValue: Value, shown: String? = nil, _ help: String) {
        self.key = key
        self.type = type
        self.defaultValue = defaultValue
        self.help = help
        self.shownDefault = shown ?? Self.yaml(defaultValue)
    }

    /// An option the config must give.
    public init(required key: Key, _ type: String, _ help: String) {
        self.key = key
        self.type = type
        self.defaultValue = nil
        self.help = help
        self.shownDefault = nil
    }

    /// The value when the key is absent.
    public var `default`: Value {
        guard let defaultValue else { preconditionFailure("sink option '\(key.stringValue)' is required and has no default") }
        return defaultValue
    }

    public var documentation: OptionDocumentation {
        OptionDocumentation(key.stringValue, type, default: shownDefault, help)
    }

    /// A default as YAML writes it: enums by their raw value, whole numbers without `.0`.
    static func yaml(_ value: Value) -> String {
        switch value {
        case let raw as any RawRepresentable<String>: raw.rawValue
        case let number as Double where number == number.rounded() && abs(number) < 1e15: "\(Int64(number))"
        default: "\(value)"
        }
    }
}

extension KeyedDecodingContainer {
    /// The option's value from the config, or its default when the key is absent (a required option that is
    /// absent throws the decoder's "missing key" error).
    public func decode<Value>(_ option: SinkOption<Key, Value>) throws -> Value {
        guard let fallback = option.defaultValue else { return try decode(Value.self, forKey: option.key) }
        return try decodeIfPresent(Value.self, forKey: option.key) ?? fallback
    }
}
