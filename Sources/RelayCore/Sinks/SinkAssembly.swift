import Logging

extension SinkRegistry {
    /// Builds the configured sinks, in order: the one place where `SinkSettings` become sinks, used by the relay
    /// and by `rtms-relay replay`. Each comes as the hub member it will be (its id, queue policy and context).
    ///
    /// A sink type the registry does not know, options a sink refuses (`OptionError`) and a sink that cannot be
    /// made at all each fail as a `ConfigError` at the sink's line, naming `sinks.<id>` (and the option). Sinks
    /// with `overflow: spill` get their spill log from `openSpill` (what it already holds is delivered first); nil
    /// for callers that feed the sinks themselves, without a hub and its queues (`replay --archive`).
    public func makeSinks(_ sinks: [SinkSettings], of configuration: RelayConfiguration, logger: Logger,
                          openSpill: SpillLogOpener?) throws -> [EventHub.Member] {
        try sinks.map { settings in
            guard let factory = factory(for: settings.typeName) else {
                throw ConfigError(file: configuration.source, line: settings.line, message: "sinks.\(settings.id): unknown sink type '\(settings.typeName)'")
            }
            let context = SinkContext(id: settings.id, logger: logger)
            do {
                let sink = try factory.makeSink(options: settings.options, context: context)
                var spill: (any SpillLog)?
                if settings.queue.overflow == .spill, let openSpill {
                    let path = settings.queue.spillFile(forSink: settings.id)
                    do {
                        spill = try openSpill(path)
                    } catch {
                        throw OptionError(key: "queue.spill_path", "cannot open the spill log \(path): \(error)")
                    }
                    if let spill, spill.count > 0 {
                        context.logger.notice("delivering events spilled by the last run before new ones",
                                              metadata: ["events": "\(spill.count)", "bytes": "\(spill.bytes)", "spill_log": "\(path)"])
                    }
                }
                return EventHub.Member(id: settings.id, typeName: settings.typeName, policy: settings.queue, sink: sink, context: context, spill: spill)
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
