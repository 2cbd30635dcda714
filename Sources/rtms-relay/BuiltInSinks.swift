import JSONLinesSink
import RelayCore
import SQLiteSink
import WAVSink

/// The sink types this binary ships with: the one place a new sink module is registered (SPEC §4.2).
enum BuiltInSinks {
    static func registry() -> SinkRegistry {
        var registry = SinkRegistry()
        registry.register(JSONLinesSink.self)
        registry.register(WAVSink.self)
        registry.register(SQLiteSink.self)
        return registry
    }
}
