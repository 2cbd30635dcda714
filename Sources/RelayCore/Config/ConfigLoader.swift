import Foundation

/// Reads the relay's configuration: a YAML file or the embedded defaults, with `${VAR}` substitution from
/// the environment and `.env` files, decoded strictly (README.md, "Configuration").
public struct ConfigLoader: Sendable {
    /// The sink types this binary knows; `type:` values are looked up here.
    public let registry: SinkRegistry
    /// The process environment (tests pass their own).
    public let environment: [String: String]
    /// Where a relative config path and the working-directory `.env` are resolved.
    public let workingDirectory: String

    /// The name errors use for the built-in configuration.
    public static let embeddedDefaultsName = "<embedded defaults>"

    public init(
        registry: SinkRegistry,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath
    ) {
        self.registry = registry
        self.environment = environment
        self.workingDirectory = workingDirectory
    }

    /// `path` if given, else `./config.yaml` when it exists, else the embedded defaults (what `serve` does).
    public func load(path: String?) throws -> RelayConfiguration {
        if let path { return try loadFile(path) }
        let local = (workingDirectory as NSString).appendingPathComponent("config.yaml")
        if FileManager.default.fileExists(atPath: local) { return try loadFile(local) }
        return try loadEmbeddedDefaults()
    }

    /// Loads and checks one YAML file.
    public func loadFile(_ path: String) throws -> RelayConfiguration {
        let absolute = path.hasPrefix("/") ? path : (workingDirectory as NSString).appendingPathComponent(path)
        guard let data = FileManager.default.contents(atPath: absolute) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory)
            let reason = !exists ? "no such file" : isDirectory.boolValue ? "is a directory" : "cannot be read (permission denied?)"
            throw ConfigError(file: path, line: 0, message: reason)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, line: 0, message: "is not UTF-8 text")
        }
        let directory = (absolute as NSString).deletingLastPathComponent
        let environment = try environmentWithDotEnv(nextTo: directory)
        return try parse(yaml: text, file: path, environment: environment)
    }

    /// The configuration used when no file is given (README.md, "Configuration").
    public func loadEmbeddedDefaults() throws -> RelayConfiguration {
        try parse(yaml: EmbeddedDefaults.yaml, file: Self.embeddedDefaultsName, environment: try environmentWithDotEnv(nextTo: nil))
    }

    /// The environment with `.env` next to the config, then in the working directory, filled in beneath
    /// what is already set.
    func environmentWithDotEnv(nextTo directory: String?) throws -> [String: String] {
        var result = environment
        var directories = [workingDirectory]
        if let directory, directory != workingDirectory { directories.insert(directory, at: 0) }
        for directory in directories {
            let path = (directory as NSString).appendingPathComponent(".env")
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else { continue }
            for (key, value) in try DotEnv.parse(text, file: path) where result[key] == nil {
                result[key] = value
            }
        }
        return result
    }

    /// Decodes YAML text into a configuration.
    public func parse(yaml: String, file: String, environment: [String: String]) throws -> RelayConfiguration {
        guard let root = try ConfigNode.parse(yaml: yaml, file: file) else {
            throw ConfigError(file: file, line: 0, message: "the file is empty")
        }
        let decoder = ConfigDecoder(file: file, environment: environment)
        guard case .mapping(let entries, _) = root else {
            // Not a mapping at all: the decoder says so, and nothing else can be checked.
            _ = try decoder.decode(TopLevelKeys.self, from: root)
            throw ConfigError(file: file, line: root.line, message: "expected a mapping of sections")
        }
        // Every section (and every sink) is decoded on its own, so that one run reports every mistake.
        var errors: [ConfigError] = []
        func attempt<T>(_ body: () throws -> T) -> T? {
            do { return try body() } catch let error as ConfigError {
                errors.append(error)
                return nil
            } catch {
                errors.append(ConfigError(file: file, line: 0, message: "\(error)"))
                return nil
            }
        }
        func section<T: Decodable>(_ key: String, _ empty: T) -> T {
            guard let entry = entries.first(where: { $0.key == key }), !entry.value.isNull else { return empty }
            return attempt { try decoder.decode(T.self, from: entry.value, path: [key], keyLine: entry.keyLine) } ?? empty
        }
        _ = attempt { try decoder.decode(TopLevelKeys.self, from: root) }
        let server = section("server", ServerSettings())
        var zoom = section("zoom", ZoomSettings())
        if !zoom.proxyIsConfigured, let (name, value) = ["HTTPS_PROXY", "https_proxy"].lazy.compactMap({ name in environment[name].map { (name, $0) } })
            .first(where: { !$0.1.isEmpty }) {
            do {
                zoom.proxy = try OutboundProxy(url: value, key: name)
            } catch {
                errors.append(ConfigError(file: file, line: 0, message: "\(name) (from the environment, as zoom.proxy is not set): \(error.message)"))
            }
        }
        let tokenStore = section("token_store", TokenStoreSettings())
        let cluster = section("cluster", ClusterSettings())
        let access = section("access", AccessSettings())
        let sinks = decodeSinks(root["sinks"], decoder: decoder, errors: &errors)
        if !errors.isEmpty { throw ConfigError(all: errors) }
        return RelayConfiguration(source: file, server: server, zoom: zoom, tokenStore: tokenStore, cluster: cluster, access: access, sinks: sinks,
                                  keyLines: Self.keyLines(of: root))
    }

    /// Every key's line, by dotted path.
    static func keyLines(of node: ConfigNode, prefix: String = "") -> [String: Int] {
        guard case .mapping(let entries, _) = node else { return [:] }
        var lines: [String: Int] = [:]
        for entry in entries {
            let path = prefix.isEmpty ? entry.key : prefix + "." + entry.key
            lines[path] = entry.keyLine
            lines.merge(keyLines(of: entry.value, prefix: path)) { first, _ in first }
        }
        return lines
    }

    /// The sinks; a broken one is reported in `errors` and left out, so the others are still checked.
    private func decodeSinks(_ node: ConfigNode?, decoder: ConfigDecoder, errors: inout [ConfigError]) -> [SinkSettings] {
        guard let node, !node.isNull else { return [] }
        guard case .mapping(let entries, _) = node else {
            errors.append(ConfigError(file: decoder.file, line: node.line, message: "sinks: expected a mapping of sink id to sink, found \(node.kindDescription)"))
            return []
        }
        var result: [SinkSettings] = []
        for entry in entries {
            do {
                result.append(try decodeSink(entry, decoder: decoder))
            } catch let error as ConfigError {
                errors.append(error)
            } catch {
                errors.append(ConfigError(file: decoder.file, line: entry.keyLine, message: "sinks.\(entry.key): \(error)"))
            }
        }
        return result
    }

    private func decodeSink(_ entry: ConfigNode.Entry, decoder: ConfigDecoder) throws -> SinkSettings {
        let path = ["sinks", entry.key]
        guard case .mapping(let fields, let line) = entry.value else {
            throw ConfigError(file: decoder.file, line: entry.keyLine, message: "\(path.joined(separator: ".")): expected a mapping with a 'type', found \(entry.value.kindDescription)")
        }
        guard let typeNode = entry.value["type"] else {
            throw ConfigError(file: decoder.file, line: entry.keyLine, message: "missing key 'type' in \(path.joined(separator: ".")) (one of: \(registry.all.map(\.typeName).joined(separator: ", ")))")
        }
        let typeName = try decoder.decode(String.self, from: typeNode, path: path + ["type"])
        guard let factory = registry.factory(for: typeName) else {
            var message = "\(path.joined(separator: ".")).type: unknown sink type '\(typeName)' (this binary knows: \(registry.all.map(\.typeName).joined(separator: ", ")))"
            if let guess = suggestion(for: typeName, among: registry.all.map(\.typeName)) { message += "; did you mean '\(guess)'?" }
            throw ConfigError(file: decoder.file, line: typeNode.line, message: message)
        }
        let queueEntry = fields.first { $0.key == "queue" }
        let queue = try queueEntry.map {
            try decoder.decode(from: $0.value, path: path + ["queue"], keyLine: $0.keyLine) {
                try QueuePolicy.Settings(from: $0).policy(defaultOverflow: factory.defaultOverflow)
            }
        } ?? QueuePolicy.Settings().policy(defaultOverflow: factory.defaultOverflow)
        let optionsNode = ConfigNode.mapping(fields.filter { $0.key != "type" && $0.key != "queue" }, line: line)
        let options = try decoder.decode(from: optionsNode, path: path, keyLine: entry.keyLine) { try factory.decodeOptions(from: $0) }
        return SinkSettings(id: entry.key, typeName: typeName, queue: queue, options: options, line: entry.keyLine)
    }

    /// The top-level keys, read only to refuse unknown ones (each section is decoded on its own).
    private struct TopLevelKeys: Decodable {
        enum CodingKeys: String, CodingKey {
            case server, zoom
            case tokenStore = "token_store"
            case cluster, sinks, access
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            for key in [CodingKeys.server, .zoom, .tokenStore, .cluster, .sinks, .access] { _ = c.contains(key) }
        }
    }
}
