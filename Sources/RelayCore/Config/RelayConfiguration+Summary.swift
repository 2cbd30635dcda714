import Foundation

/// Human-readable views of a configuration for `check-config` and start-up logs. Secrets print as
/// `[redacted]` through `Secret`'s description.
extension RelayConfiguration {
    /// What is valid but probably not what the operator wants: `check-config` prints each as `warning: …`, and
    /// `serve` logs each at start-up.
    public var warnings: [String] {
        var warnings: [String] = []
        if sinks.isEmpty {
            warnings.append("no sinks: every event is received and dropped; add one under sinks: (type web for the agent page, wav for recordings)")
        }
        if zoom.clientID.isEmpty || zoom.clientSecret.isEmpty {
            warnings.append("zoom.client_id / zoom.client_secret not set: Connect to Zoom and RTMS control are off")
        }
        if zoom.webhookSecret.isEmpty {
            warnings.append("zoom.webhook_secret not set: every webhook is refused")
        }
        if let origin = WebOrigin(url: server.publicURL) {
            // Behind a proxy or tunnel the public port differs on purpose; on this machine it must be the real one.
            if origin.isLoopback, server.port != 0, origin.port != server.port {
                warnings.append("server.public_url \(server.publicURL) names port \(origin.port), but the relay listens on \(server.port): "
                    + "the OAuth redirect and links to the page will miss it")
            }
        } else {
            warnings.append("server.public_url '\(server.publicURL)' is not an http(s) URL: the OAuth redirect and the Home URL need it")
        }
        return warnings
    }

    /// What would run, one setting per line.
    public func summary() -> String {
        var lines: [String] = []
        // Keys as they are written in YAML, so that what is shown can be looked up and copied.
        lines.append("server: host \(server.host), port \(server.port), public_url \(server.publicURL), access_token \(server.accessToken), allow_anonymous \(server.allowAnonymous)")
        lines.append("        max_body_bytes \(server.maxBodyBytes), max_event_streams \(server.maxEventStreams), max_event_streams_per_caller \(server.maxEventStreamsPerCaller)")
        lines.append("        idle_timeout_seconds \(server.idleTimeoutSeconds), header_timeout_seconds \(server.headerTimeoutSeconds), body_timeout_seconds \(server.bodyTimeoutSeconds), max_connections \(server.maxConnections)")
        lines.append("        web_root \(server.webRoot.isEmpty ? "(the page built into the binary)" : server.webRoot)")
        lines.append("zoom: client_id \(zoom.clientID.isEmpty ? "(not set)" : zoom.clientID), client_secret \(zoom.clientSecret), webhook_secret \(zoom.webhookSecret)")
        lines.append("      oauth_url \(zoom.oauthURL), api_url \(zoom.apiURL), rtms_allowed_hosts [\(zoom.rtmsAllowedHosts.joined(separator: ", "))], webhook_tolerance_seconds \(zoom.webhookToleranceSeconds)"
            + (zoom.caFile.isEmpty ? "" : ", ca_file \(zoom.caFile)") + (zoom.allowInsecureRTMS ? ", allow_insecure_rtms: true (ws:// accepted)" : ""))
        lines.append("      proxy " + (zoom.proxy.map { "\($0)" + (zoom.proxyIsConfigured ? "" : " (HTTPS_PROXY)") } ?? "none"))
        lines.append("      transcripts \(zoom.transcripts) (" + (zoom.transcripts ? "audio and Zoom's live transcript" : "audio only") + ")")
        lines.append("token_store: kind \(tokenStore.kind.rawValue), " + (tokenStore.kind == .sqlite ? "path \(tokenStore.path)" : "url \(tokenStore.url)"))
        lines.append("cluster: " + (cluster.isEnabled
            ? "redis_url \(cluster.redisURL), key_prefix \(cluster.keyPrefix), lease_ms \(cluster.leaseMilliseconds), relay_audio \(cluster.relayAudio), secret \(cluster.secret) (messages signed)"
            : "off (single instance: no redis_url)"))
        lines.append("access: supervisors [\(access.supervisors.joined(separator: ", "))], supervisors_control \(access.supervisorsControl), session_minutes \(access.sessionMinutes)")
        lines.append("sinks:\(sinks.isEmpty ? " none" : "")")
        for sink in sinks {
            var queue = "\(sink.queue.capacity) \(sink.queue.overflow.rawValue)"
            if sink.queue.overflow == .spill { queue += " to \(sink.queue.spillFile(forSink: sink.id)) (at most \(sink.queue.spillMaxBytes) bytes)" }
            queue += ", batch window \(Int(sink.queue.batchWindow / .milliseconds(1))) ms"
            lines.append("  \(sink.id): type \(sink.typeName), queue \(queue)")
            for (key, value) in Self.fields(of: sink.options) {
                lines.append("    \(key): \(value)")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The stored properties of an options value, by reflection.
    /// A sink's options as `key: value` pairs. Options that are `Encodable` (every built-in sink's) print their
    /// YAML keys, in the order the sink documents them; others fall back to their Swift property names.
    static func fields(of value: any SinkOptions) -> [(String, String)] {
        if let encodable = value as? any Encodable, let data = try? JSONEncoder().encode(encodable),
           case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: data) {
            let order = type(of: value).documentation.map(\.key)
            let keys = object.keys.sorted { (order.firstIndex(of: $0) ?? .max, $0) < (order.firstIndex(of: $1) ?? .max, $1) }
            return keys.map { key in
                switch object[key]! {
                case .string(let text): (key, text)
                case .bool(let flag): (key, "\(flag)")
                case .number(let number): (key, number == number.rounded() && abs(number) < 1e15 ? "\(Int64(number))" : "\(number)")
                case let other: (key, "\(other)")
                }
            }
        }
        return Mirror(reflecting: value).children.compactMap { child in
            guard let label = child.label else { return nil }
            return (label, "\(child.value)")
        }
    }
}

extension SinkRegistry {
    /// Every registered sink type with its options, for `check-config`.
    public func documentation() -> String {
        var lines: [String] = []
        for factory in all {
            lines.append("  \(factory.typeName): \(factory.summary)")
            for option in factory.documentation {
                lines.append("    \(option.key) (\(option.type)\(option.defaultValue.map { ", default \($0)" } ?? "")): \(option.help)")
            }
            lines.append("    queue: {capacity: N, overflow: block | drop_oldest | drop_newest | spill, spill_path: FILE, spill_max_bytes: N}"
                + " (default 50000, \(factory.defaultOverflow.rawValue); spill: data/spill/<id>.sqlite, \(QueuePolicy.defaultSpillMaxBytes) bytes)")
        }
        return lines.joined(separator: "\n")
    }
}
