import Prometheus
import RTMSIngest
import RelayCore
import ZoomAPI

/// One Prometheus sample read at scrape time.
public struct MetricSample: Sendable {
    public var name: String
    public var kind: String
    public var help: String
    public var value: Int
    public var labels: [(String, String)]

    public init(_ name: String, _ kind: String, _ help: String, _ value: Int, labels: [(String, String)] = []) {
        self.name = name
        self.kind = kind
        self.help = help
        self.value = value
        self.labels = labels
    }
}

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
    func render(sinks: [SinkSnapshot], activeStreams: Int, samples: [MetricSample] = []) -> String {
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
        family("rtms_relay_sink_spilled_events", "gauge", "Events in a sink's on-disk spill log (0 without overflow: spill).") { "\($0.spilled ?? 0)" }
        family("rtms_relay_sink_spilled_bytes", "gauge", "Bytes of the events in a sink's on-disk spill log.") { "\($0.spilledBytes ?? 0)" }
        family("rtms_relay_sink_degraded", "gauge", "1 when a sink is restarting or reports trouble.") { $0.isDegraded ? "1" : "0" }
        let latency = "rtms_relay_audio_latency_seconds"
        text += "# HELP \(latency) From Zoom's timestamp on an audio frame to a sink having consumed it.\n# TYPE \(latency) histogram\n"
        for sink in sinks {
            let labels = "sink=\"\(Self.escape(sink.id))\",type=\"\(Self.escape(sink.type))\""
            var cumulative: UInt64 = 0
            for (index, count) in sink.audioLatency.buckets.enumerated() {
                cumulative += count
                let bound = index < LatencyHistogram.boundsMillis.count ? "\(Double(LatencyHistogram.boundsMillis[index]) / 1000)" : "+Inf"
                text += "\(latency)_bucket{\(labels),le=\"\(bound)\"} \(cumulative)\n"
            }
            text += "\(latency)_sum{\(labels)} \(Double(sink.audioLatency.sumMillis) / 1000)\n"
            text += "\(latency)_count{\(labels)} \(sink.audioLatency.count)\n"
        }
        text += "# HELP rtms_relay_streams_active RTMS streams currently connected or connecting.\n# TYPE rtms_relay_streams_active gauge\n"
        text += "rtms_relay_streams_active \(activeStreams)\n"
        var described: Set<String> = []
        for sample in samples {
            if described.insert(sample.name).inserted {
                text += "# HELP \(sample.name) \(sample.help)\n# TYPE \(sample.name) \(sample.kind)\n"
            }
            let labels = sample.labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",")
            text += "\(sample.name)\(labels.isEmpty ? "" : "{\(labels)}") \(sample.value)\n"
        }
        return text
    }

    /// Ingest and webhook counters as Prometheus samples.
    static func ingestSamples(_ ingest: IngestMetrics, _ webhooks: WebhookReceiver.Counters) -> [MetricSample] {
        let outcome = "rtms_relay_webhooks_total", help = "Webhook requests by outcome."
        return [
            MetricSample("rtms_relay_frames_received_total", "counter", "RTMS frames received on all sockets.", ingest.framesReceived),
            MetricSample("rtms_relay_bytes_received_total", "counter", "Bytes of RTMS frames received.", ingest.bytesReceived),
            MetricSample("rtms_relay_audio_frames_total", "counter", "Audio frames published as events.", ingest.audioFrames),
            MetricSample("rtms_relay_malformed_frames_total", "counter", "RTMS frames that could not be parsed.", ingest.malformedFramesReceived),
            MetricSample("rtms_relay_refused_server_hosts_total", "counter", "server_urls refused by rtms_allowed_hosts.", ingest.refusedServerHosts),
            MetricSample(outcome, "counter", help, webhooks.accepted, labels: [("outcome", "accepted")]),
            MetricSample(outcome, "counter", help, webhooks.validations, labels: [("outcome", "url_validation")]),
            MetricSample(outcome, "counter", help, webhooks.duplicates, labels: [("outcome", "duplicate")]),
            MetricSample(outcome, "counter", help, webhooks.unauthorized, labels: [("outcome", "unauthorized")]),
            MetricSample(outcome, "counter", help, webhooks.malformed, labels: [("outcome", "malformed")]),
            MetricSample(outcome, "counter", help, webhooks.tooLarge, labels: [("outcome", "too_large")]),
            MetricSample(outcome, "counter", help, webhooks.ignored, labels: [("outcome", "ignored")]),
        ]
    }

    private static func escape(_ label: String) -> String {
        label.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
