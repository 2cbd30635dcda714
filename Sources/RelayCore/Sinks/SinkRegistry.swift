/// A sink module's entry point: its `type` name, its options and how to build it.
///
/// Conform the sink type itself (`struct JSONLinesSink: SinkPlugin`) and register it in the executable with
/// `registry.register(JSONLinesSink.self)`.
public protocol SinkPlugin: Sink {
    /// The options of one sink of this type, decoded strictly from its YAML block (minus `type` and `queue`).
    associatedtype Options: SinkOptions
    /// The `type:` name in the config, e.g. `wav`.
    static var typeName: String { get }
    /// One line on what the sink does, for `check-config`.
    static var summary: String { get }
    /// Builds the sink. Throw `OptionError` for options that decode but make no sense.
    init(options: Options, context: SinkContext) throws
    /// The queue's `overflow` when the config names none: `drop_newest` unless the sink says otherwise (storage
    /// sinks say `spill`).
    static var defaultOverflow: QueuePolicy.Overflow { get }
}

extension SinkPlugin {
    public static var defaultOverflow: QueuePolicy.Overflow { .dropNewest }
}

/// A sink's options: decoded from YAML, checked, and described for `check-config`.
public protocol SinkOptions: Decodable, Sendable {
    /// Every option with its type, default and meaning, for `check-config` and the docs.
    static var documentation: [OptionDocumentation] { get }
}

/// One documented option of a sink.
public struct OptionDocumentation: Sendable, Hashable {
    public var key: String
    public var type: String
    public var defaultValue: String?
    public var help: String

    public init(_ key: String, _ type: String, default defaultValue: String? = nil, _ help: String) {
        self.key = key
        self.type = type
        self.defaultValue = defaultValue
        self.help = help
    }
}

/// A registered sink type, erased so the registry can hold any of them.
public struct SinkFactory: Sendable {
    public let typeName: String
    public let summary: String
    public let documentation: [OptionDocumentation]
    public let defaultOverflow: QueuePolicy.Overflow
    let decode: @Sendable (any Decoder) throws -> any SinkOptions
    let build: @Sendable (any SinkOptions, SinkContext) throws -> any Sink

    init<Plugin: SinkPlugin>(_ plugin: Plugin.Type) {
        typeName = Plugin.typeName
        summary = Plugin.summary
        documentation = Plugin.Options.documentation
        defaultOverflow = Plugin.defaultOverflow
        decode = { try Plugin.Options(from: $0) }
        build = { options, context in
            guard let options = options as? Plugin.Options else {
                preconditionFailure("options of \(type(of: options)) given to \(Plugin.typeName)")
            }
            return try Plugin(options: options, context: context)
        }
    }

    /// Decodes and checks options for this type.
    public func decodeOptions(from decoder: any Decoder) throws -> any SinkOptions {
        try decode(decoder)
    }

    /// Builds a sink from options this factory decoded.
    public func makeSink(options: any SinkOptions, context: SinkContext) throws -> any Sink {
        try build(options, context)
    }
}

/// The sink types this binary knows, by `type` name. The executable fills it in one place.
public struct SinkRegistry: Sendable {
    private var factories: [String: SinkFactory] = [:]

    public init() {}

    /// Adds a sink type. Registering the same `typeName` twice is a programming error.
    public mutating func register<Plugin: SinkPlugin>(_ plugin: Plugin.Type) {
        precondition(factories[Plugin.typeName] == nil, "sink type '\(Plugin.typeName)' registered twice")
        factories[Plugin.typeName] = SinkFactory(plugin)
    }

    /// The factory for `typeName`, if registered.
    public func factory(for typeName: String) -> SinkFactory? {
        factories[typeName]
    }

    /// All registered types, sorted by name.
    public var all: [SinkFactory] {
        factories.values.sorted { $0.typeName < $1.typeName }
    }
}
