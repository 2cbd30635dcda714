import ArgumentParser
import BuiltInSinks
import RelayCluster
import RelayCore

/// `rtms-relay check-config PATH`: validates a config and prints what would run, secrets redacted.
struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a config file and print what would run (exit 1 with precise errors)."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The YAML config to check. Omit it to check the embedded defaults.")
    var path: String?

    func run() async throws {
        _ = try global.bootstrapLogging()
        let loader = ConfigLoader(registry: BuiltInSinks.registry)
        let configuration = try path.map { try loader.loadFile($0) } ?? loader.loadEmbeddedDefaults()
        if configuration.cluster.isEnabled { _ = try RedisCluster.url(of: configuration) }
        print("\(configuration.source): OK\n")
        for warning in configuration.warnings { print("warning: \(warning)") }
        if !configuration.warnings.isEmpty { print("") }
        print(configuration.summary())
        print("\nSink types this binary knows:")
        print(BuiltInSinks.registry.documentation())
    }
}
