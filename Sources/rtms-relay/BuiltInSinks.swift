import JSONLinesSink
import RelayCore

/// The one place that lists the sink types this binary ships with. Adding a sink module is: a target under
/// `Plugins/`, a dependency line in Package.swift, and one `register` line here.
enum BuiltInSinks {
    static var registry: SinkRegistry {
        var registry = SinkRegistry()
        registry.register(JSONLinesSink.self)
        return registry
    }
}
