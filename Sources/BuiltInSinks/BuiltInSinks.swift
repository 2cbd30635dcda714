import JSONLinesSink
import RedisSink
import RelayCore
import SQLiteSink
import WAVSink
import WebSink

/// The one place that lists the sink types this binary ships with. Adding a sink module is: a folder
/// under `Plugins/`, one line in Package.swift's `sinks` list, and one `register` line here.
public enum BuiltInSinks {
    /// A registry holding every built-in sink type. Add your own with `registry.register(MySink.self)`.
    public static var registry: SinkRegistry {
        var registry = SinkRegistry()
        registry.register(JSONLinesSink.self)
        registry.register(WAVSink.self)
        registry.register(SQLiteSink.self)
        registry.register(WebSink.self)
        registry.register(RedisSink.self)
        return registry
    }
}
