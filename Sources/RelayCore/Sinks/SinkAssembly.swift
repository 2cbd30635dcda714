import Logging

extension SinkRegistry {
    /// Builds the configured sinks, in order: the one place where `SinkSettings` become sinks, used by the relay
    /// and by `rtms-relay replay`. Each comes as the hub member it will be (its id, queue policy and context).
    ///
    /// A sink type the registry does not know, options a sink refuses (`OptionError`) and a sink that cannot be
    /// made at all each fail as a `ConfigError` at the sink's line, naming `sinks.<id>` (and the option).
    public func makeSinks(_ sinks: [SinkSettings], of configuration: RelayConfiguration, logger: Logger) throws -> [EventHub.Member] {
        try sinks.map { settings in
            guard let factory = factory(for: settings.typeName) else {
                throw ConfigError(file: configuration.source, line: settings.line, message: "sinks.\(settings.id): unknown sink type '\(settings.typeName)'")
            }
            let context = SinkContext(id: settings.id, logger: logger)
            do {
                let sink = try factory.makeSink(options: settings.options, context: context)
                return EventHub.Member(id: settings.id, typeName: settings.typeName, policy: settings.queue, sink: sink, context: context)
            } catch let error as OptionError {
                let key = "sinks.\(settings.id).\(error.key)"
                throw ConfigError(file: configuration.source, line: configuration.keyLines[key] ?? settings.line, message: "\(key): \(error.message)")
            } catch let error as ConfigError {
                throw error
            } catch {
                throw ConfigError(file: configuration.source, line: settings.line, message: "sinks.\(settings.id): cannot start: \(error)")
            }
        }
    }
}
