import Foundation
import RelayCore
import Testing

/// A sink type for config tests, with a required option, an enum, a number and a secret.
struct FolderSink: SinkPlugin {
    struct Options: SinkOptions {
        enum Mix: String, Decodable, CaseIterable, Sendable { case none, stereo }
        var directory: String
        var mix = Mix.none
        var level = 1
        var password = Secret("")

        enum CodingKeys: String, CodingKey { case directory, mix, level, password }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            directory = try c.decode(String.self, forKey: .directory)
            mix = try c.decodeIfPresent(Mix.self, forKey: .mix) ?? mix
            level = try c.decodeIfPresent(Int.self, forKey: .level) ?? level
            password = try c.decodeIfPresent(Secret.self, forKey: .password) ?? password
            guard (1...9).contains(level) else { throw OptionError(key: "level", "must be between 1 and 9, not \(level)") }
        }

        static let documentation = [OptionDocumentation("directory", "string", "where files go")]
    }

    static let typeName = "folder"
    static let summary = "test sink"
    let options: Options
    init(options: Options, context: SinkContext) throws { self.options = options }
    func consume(_ events: [StreamEvent]) async throws {}
}

@Suite("Config loading")
struct ConfigLoaderTests {
    var registry: SinkRegistry {
        var registry = SinkRegistry()
        registry.register(FolderSink.self)
        return registry
    }

    func loader(env: [String: String] = [:], directory: String = "/nonexistent") -> ConfigLoader {
        ConfigLoader(registry: registry, environment: env, workingDirectory: directory)
    }

    func parse(_ yaml: String, env: [String: String] = [:]) throws -> RelayConfiguration {
        try loader(env: env).parse(yaml: yaml, file: "config.yaml", environment: env)
    }

    /// The exact one-line message a bad config produces.
    func message(_ yaml: String, env: [String: String] = [:]) -> String {
        do {
            _ = try parse(yaml, env: env)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    static let good = """
        server:
          host: 127.0.0.1
          port: ${PORT:-4000}
          public_url: https://relay.example.com
          access_token: ${RELAY_ACCESS_TOKEN}
        zoom:
          client_id: abc
          client_secret: ${ZOOM_APP_CLIENT_SECRET}
          webhook_secret: whsec
          rtms_allowed_hosts: ["*.zoom.us", "rtms.example.com"]
        sinks:
          recordings:
            type: folder
            directory: data/rec
            mix: stereo
            queue: {capacity: 50, overflow: block, batch_window_ms: 0}
          second:
            type: folder
            directory: /tmp/x
        """

    @Test("a good file decodes every section, in order, with substitutions")
    func goodFile() throws {
        let config = try parse(Self.good, env: ["RELAY_ACCESS_TOKEN": "tok-123", "ZOOM_APP_CLIENT_SECRET": "s3cret"])
        #expect(config.server.port == 4000)
        #expect(config.server.publicURL == "https://relay.example.com")
        #expect(config.server.accessToken.value == "tok-123")
        #expect(config.zoom.clientSecret.value == "s3cret")
        #expect(config.zoom.rtmsAllowedHosts == ["*.zoom.us", "rtms.example.com"])
        #expect(config.zoom.transcripts)
        #expect(try parse("zoom:\n  transcripts: false\n").zoom.transcripts == false)
        #expect(config.sinks.map(\.id) == ["recordings", "second"])
        #expect(config.sinks[0].queue == QueuePolicy(capacity: 50, overflow: .block, batchWindow: .zero))
        #expect(config.sinks[1].queue == QueuePolicy())
        #expect(config.sinks[1].queue.batchWindow == .milliseconds(5))
        let options = try #require(config.sinks[0].options as? FolderSink.Options)
        #expect(options.directory == "data/rec" && options.mix == .stereo && options.level == 1)
        #expect(config.sinks[0].line == 12)
    }

    @Test("secrets never show in descriptions or dumps")
    func secretsRedacted() throws {
        let config = try parse(Self.good + "\n    password: hunter2", env: ["RELAY_ACCESS_TOKEN": "tok-123", "ZOOM_APP_CLIENT_SECRET": "s3cret"])
        var dumped = ""
        dump(config, to: &dumped)
        let described = "\(config) \(config.server) \(config.zoom) \(config.sinks[1].options)"
        for text in [dumped, described] {
            #expect(!text.contains("tok-123"))
            #expect(!text.contains("s3cret"))
            #expect(!text.contains("hunter2"))
            #expect(text.contains("[redacted]"))
        }
    }

    static let badInputs: [(String, [String: String], String)] = [
        ("server:\n  prot: 3001\n", [:], "config.yaml:2: unknown key 'prot' in server (did you mean 'port'?)"),
        ("server:\n  port: abc\n", [:], "config.yaml:2: server.port: expected an integer, found 'abc'"),
        ("server:\n  port: 70000\n", [:], "config.yaml:2: server.port: must be between 0 and 65535, not 70000"),
        ("zoom:\n  client_id: ${ZOOM_ID}\n", [:], "config.yaml:2: zoom.client_id: environment variable ZOOM_ID is not set (write ${ZOOM_ID:-default} to allow that)"),
        ("sinks:\n  rec:\n    type: folder\n", [:], "config.yaml:2: missing key 'directory' in sinks.rec"),
        ("sinks:\n  rec:\n    type: folder\n    directry: x\n", [:], "config.yaml:2: missing key 'directory' in sinks.rec"),
        ("sinks:\n  rec:\n    type: folder\n    directory: x\n    mix: mono\n", [:], "config.yaml:5: sinks.rec.mix: 'mono' is not one of none, stereo"),
        ("sinks:\n  rec:\n    type: foldr\n    directory: x\n", [:], "config.yaml:3: sinks.rec.type: unknown sink type 'foldr' (this binary knows: folder); did you mean 'folder'?"),
        ("sinks:\n  rec:\n    directory: x\n", [:], "config.yaml:2: missing key 'type' in sinks.rec (one of: folder)"),
        ("sinks:\n  rec:\n    type: folder\n    directory: x\n    queue: {capacity: 0}\n", [:], "config.yaml:5: sinks.rec.queue.capacity: must be at least 1, not 0"),
        ("sinks:\n  rec:\n    type: folder\n    directory: x\n    queue: {batch_window_ms: -1}\n", [:], "config.yaml:5: sinks.rec.queue.batch_window_ms: must be 0 to 1000 (milliseconds), not -1"),
        ("sinks:\n  rec:\n    type: folder\n    directory: x\n    queue: {batch_window_ms: 86400000000}\n", [:], "config.yaml:5: sinks.rec.queue.batch_window_ms: must be 0 to 1000 (milliseconds), not 86400000000"),
        ("sinks:\n  rec:\n    type: folder\n    directory: x\n    queue: {overflow: drop_old}\n", [:], "config.yaml:5: sinks.rec.queue.overflow: 'drop_old' is not one of block, drop_oldest, drop_newest, spill (did you mean 'drop_oldest'?)"),
        ("sinks:\n  rec:\n    type: folder\n    directory: x\n    level: 12\n", [:], "config.yaml:5: sinks.rec.level: must be between 1 and 9, not 12"),
        ("server:\n  host: 0.0.0.0\n  allow_anonymous: true\n", [:], "config.yaml:3: server.allow_anonymous: is only allowed when server.host is a loopback address (127.0.0.1, ::1, localhost), not '0.0.0.0'"),
        ("server: [1, 2]\n", [:], "config.yaml:1: server: expected a mapping, found a list"),
        ("server:\n  port: 1\n  port: 2\n", [:], "config.yaml:2: invalid YAML: duplicate key 'port' (in the mapping that starts here)"),
        ("server:\n  host: [unclosed\n", [:], "config.yaml:3: invalid YAML: while parsing a flow sequence did not find expected ',' or ']'"),
        ("token_store:\n  kind: redis\n", [:], "config.yaml:2: token_store.url: is required when kind is redis (e.g. redis://127.0.0.1:6379/0)"),
        ("zoom:\n  oauth_url: zoom.us\n", [:], "config.yaml:2: zoom.oauth_url: must start with http:// or https://, not 'zoom.us'"),
        ("server:\n  allow_anonymous: maybe\n", [:], "config.yaml:2: server.allow_anonymous: expected true or false, found 'maybe'"),
        ("zoom:\n  transcripts: audio\n", [:], "config.yaml:2: zoom.transcripts: expected true or false, found 'audio'"),
        ("zoom:\n  transcript: false\n", [:], "config.yaml:2: unknown key 'transcript' in zoom (did you mean 'transcripts'?)"),
        ("sinks:\n  rec:\n    type: folder\n    directory: x\n    extra: 1\n", [:], "config.yaml:5: unknown key 'extra' in sinks.rec"),
        ("clster:\n  redis_url: x\n", [:], "config.yaml:1: unknown key 'clster' in the document (did you mean 'cluster'?)"),
        ("cluster:\n  redis_url: redis://r\n  lease_ms: 100\n  secret: 0123456789abcdef\n", [:], "config.yaml:3: cluster.lease_ms: must be between 300 and 600000, not 100"),
        ("cluster:\n  lease_ms: soon\n", [:], "config.yaml:2: cluster.lease_ms: expected an integer, found 'soon'"),
    ]

    @Test("each bad input gets its exact one-line message", arguments: badInputs.indices)
    func badInput(index: Int) {
        let (yaml, env, expected) = Self.badInputs[index]
        #expect(message(yaml, env: env) == expected)
    }

    @Test("one run reports every section's and every sink's mistake, one line each, in line order")
    func everyMistake() {
        let yaml = "server:\n  port: nope\nzoom:\n  client_idd: x\nsinks:\n  a: {type: folder, directory: x, level: 12}\n  b: {type: nosuch}\n  c: {type: folder, directory: y}\nbogus: 1\n"
        #expect(message(yaml).split(separator: "\n") == [
            "config.yaml:2: server.port: expected an integer, found 'nope'",
            "config.yaml:4: unknown key 'client_idd' in zoom (did you mean 'client_id'?)",
            "config.yaml:6: sinks.a.level: must be between 1 and 9, not 12",
            "config.yaml:7: sinks.b.type: unknown sink type 'nosuch' (this binary knows: folder)",
            "config.yaml:9: unknown key 'bogus' in the document",
        ])
        // Two unknown keys in one mapping are both named.
        #expect(message("server:\n  prot: 1\n  hots: x\n").split(separator: "\n").count == 2)
    }

    @Test("YAML syntax mistakes made by hand get plain words and the line", arguments: [
        ("server:\n\tport: 3\n", "config.yaml:2: a tab in this line: YAML indents with spaces only"),
        ("server:\n  public_url: http://a:b: c\n", "config.yaml:2: a ':' where none can be: quote a value that holds ': ', or look for a missing ':' on the line above"),
        ("server:\n    port: 3\n  host: x\n", "config.yaml:3: this line's indentation does not match the keys above it"),
        ("zoom: {client_id: 'abc\n", "config.yaml:2: an unclosed or broken quoted string"),
    ])
    func yamlInPlainWords(yaml: String, expected: String) {
        #expect(message(yaml) == expected)
    }

    @Test("${VAR:-default} uses the default when VAR is unset or empty, and $${ is a literal")
    func substitution() throws {
        #expect(try EnvironmentSubstitution.substitute("${A:-x}-${B:-y}", environment: ["B": ""]) == "x-y")
        #expect(try EnvironmentSubstitution.substitute("${A}/${A:-z}", environment: ["A": "v"]) == "v/v")
        #expect(try EnvironmentSubstitution.substitute("cost $5 and $${HOME}", environment: [:]) == "cost $5 and ${HOME}")
        #expect(throws: EnvironmentSubstitution.Failure.self) { try EnvironmentSubstitution.substitute("${OPEN", environment: [:]) }
    }

    @Test(".env next to the config fills in variables without overriding the environment")
    func dotEnv() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "# comment\nexport ZOOM_APP_CLIENT_ID=from-dotenv\nRELAY_PORT='4100'\nPUBLIC_URL=\"https://x.example\" \n".write(toFile: directory + "/.env", atomically: true, encoding: .utf8)
        try "server:\n  port: ${RELAY_PORT}\n  public_url: ${PUBLIC_URL}\nzoom:\n  client_id: ${ZOOM_APP_CLIENT_ID}\n".write(toFile: directory + "/relay.yaml", atomically: true, encoding: .utf8)
        let config = try loader(env: ["ZOOM_APP_CLIENT_ID": "from-env"]).loadFile(directory + "/relay.yaml")
        #expect(config.zoom.clientID == "from-env")
        #expect(config.server.port == 4100)
        #expect(config.server.publicURL == "https://x.example")
    }

    @Test("a malformed .env line is an error naming the line")
    func badDotEnv() {
        #expect(throws: ConfigError(file: "x/.env", line: 2, message: "expected KEY=value")) {
            try DotEnv.parse("A=1\nnot a pair\n", file: "x/.env")
        }
    }

    @Test("missing and unreadable files are one clear line")
    func missingFile() {
        #expect(throws: ConfigError(file: "/nonexistent/relay.yaml", line: 0, message: "no such file")) {
            try loader().loadFile("/nonexistent/relay.yaml")
        }
    }

    @Test("the embedded defaults load, listen on loopback 3001 and take Zoom credentials from the environment")
    func embeddedDefaults() throws {
        let config = try ConfigLoader(registry: Self.builtInLikeRegistry, environment: ["ZOOM_APP_CLIENT_ID": "cid", "ZOOM_SECRET_TOKEN": "wh"], workingDirectory: "/nonexistent")
            .load(path: nil)
        #expect(config.source == "<embedded defaults>")
        #expect(config.server.host == "127.0.0.1" && config.server.port == 3001)
        #expect(config.server.allowAnonymous == false)
        #expect(config.zoom.clientID == "cid")
        #expect(config.zoom.webhookSecret.value == "wh")
        #expect(config.zoom.clientSecret.isEmpty)
        #expect(config.tokenStore.kind == .sqlite && config.tokenStore.path == "data/relay.sqlite")
        #expect(config.sinks.map(\.typeName) == ["web", "wav", "sqlite", "jsonl"])
    }

    /// A registry that accepts every built-in type name with any options, so the embedded defaults can be
    /// loaded without linking the sink modules into this test target.
    static var builtInLikeRegistry: SinkRegistry {
        var registry = SinkRegistry()
        registry.register(AnySink.self)
        registry.register(AnySink.Web.self)
        registry.register(AnySink.WAV.self)
        registry.register(AnySink.SQLite.self)
        return registry
    }
}

/// Accepts any options (reads every key), registered under `jsonl`, the embedded defaults' sink.
struct AnySink: SinkPlugin {
    struct Options: SinkOptions {
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: PathKey.self)
            for key in c.allKeys { _ = key }
        }
        static let documentation: [OptionDocumentation] = []
    }
    struct PathKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
    static let typeName = "jsonl"
    static let summary = "any"
    init(options: Options, context: SinkContext) throws {}
    func consume(_ events: [StreamEvent]) async throws {}

    /// The same, under the other type names the embedded defaults use.
    struct Web: SinkPlugin {
        static let typeName = "web"
        static let summary = "any"
        init(options: AnySink.Options, context: SinkContext) throws {}
        func consume(_ events: [StreamEvent]) async throws {}
    }
    struct WAV: SinkPlugin {
        static let typeName = "wav"
        static let summary = "any"
        init(options: AnySink.Options, context: SinkContext) throws {}
        func consume(_ events: [StreamEvent]) async throws {}
    }
    struct SQLite: SinkPlugin {
        static let typeName = "sqlite"
        static let summary = "any"
        init(options: AnySink.Options, context: SinkContext) throws {}
        func consume(_ events: [StreamEvent]) async throws {}
    }
}
