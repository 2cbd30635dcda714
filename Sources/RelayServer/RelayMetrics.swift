import Prometheus
import RelayCore

/// The relay's Prometheus registry and the numbers only known at scrape time (sink queues).
///
/// Counters that change on every request or frame live in the registry (through swift-metrics, bootstrapped
/// by the executable); per-sink numbers are read from the hub's snapshots when `/metrics` is scraped, so the
/// audio path pays nothing for them.
public struct RelayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// The Prometheus text exposition: the registry, then per-sink and stream gauges.
    func render(sinks: [SinkSnapshot], activeStreams: Int) -> String {
        var text = registry.emitToString()
        func family(_ name: String, _ kind: String, _ help: String, _ value: (SinkSnapshot) -> String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(kind)\n"
            for sink in sinks {
                text += "\(name){sink=\"\(Self.escape(sink.id))\",type=\"\(Self.escape(sink.type))\"} \(value(sink))\n"
            }
        }
        family("rtms_relay_sink_delivered_total", "counter", "Events a sink consumed without error.") { "\($0.delivered)" }
        family("rtms_relay_sink_dropped_total", "counter", "Events dropped by a sink's queue overflow policy.") { "\($0.dropped)" }
        family("rtms_relay_sink_failed_total", "counter", "Events in batches a sink threw on.") { "\($0.failed)" }
        family("rtms_relay_sink_errors_total", "counter", "Times a sink threw.") { "\($0.errors)" }
        family("rtms_relay_sink_queue_depth", "gauge", "Events waiting in a sink's queue.") { "\($0.depth)" }
        family("rtms_relay_sink_queue_capacity", "gauge", "Capacity of a sink's queue.") { "\($0.capacity)" }
        family("rtms_relay_sink_degraded", "gauge", "1 when a sink is restarting or reports trouble.") { $0.isDegraded ? "1" : "0" }
        text += "# HELP rtms_relay_streams_active RTMS streams currently connected or connecting.\n# TYPE rtms_relay_streams_active gauge\n"
        text += "rtms_relay_streams_active \(activeStreams)\n"
        return text
    }

    private static func escape(_ label: String) -> String {
        label.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
