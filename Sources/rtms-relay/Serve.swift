import ArgumentParser
import BuiltInSinks
import Metrics
import Prometheus
import RelayCore
import RelayServer

/// `rtms-relay serve`: runs the relay until SIGTERM/SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the relay. Without --config: ./config.yaml if present, else the embedded defaults."
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Path to the YAML config.")
    var config: String?

    func run() async throws {
        let logger = try global.bootstrapLogging()
        let configuration = try ConfigLoader(registry: BuiltInSinks.registry).load(path: config)
        let metrics = RelayMetrics()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))
        let descriptors = DescriptorBudget.raiseSoftLimit()
        let relay = try Relay(configuration: configuration, sinkRegistry: BuiltInSinks.registry, logger: logger, metrics: metrics)
        logger.info("starting", metadata: [
            "config": "\(configuration.source)",
            "descriptor_limit": "\(descriptors)",
            "max_http_connections": "\(relay.httpConnections.maxConnections)",
            "sinks": "\(configuration.sinks.map { "\($0.id) (\($0.typeName))" }.joined(separator: ", "))",
        ])
        let host = configuration.server.host
        do {
            try await relay.run(onServerRunning: { port in
                logger.info("listening on http://\(host):\(port)")
            })
        } catch let error as ConfigError {
            throw error
        } catch {
            throw CommandFailure.portInUse(error, port: "port \(configuration.server.port) on \(host) (server.port)")
                ?? CommandFailure.runtime("the relay stopped: \(error)")
        }
        logger.info("stopped")
    }
}
