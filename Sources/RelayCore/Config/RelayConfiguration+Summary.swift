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
        lines.append("server: http://\(server.host):\(server.port) (public \(server.publicURL)), access_token \(server.accessToken), allow_anonymous \(server.allowAnonymous), max_body_bytes \(server.maxBodyBytes)")
        lines.append("        timeouts idle \(server.idleTimeoutSeconds)s, header \(server.headerTimeoutSeconds)s, body \(server.bodyTimeoutSeconds)s, max_connections \(server.maxConnections)")
        lines.append("        page: \(server.webRoot.isEmpty ? "built in" : "from \(server.webRoot) (web_root)")")
        lines.append("zoom: client_id \(zoom.clientID.isEmpty ? "(not set)" : zoom.clientID), client_secret \(zoom.clientSecret), webhook_secret \(zoom.webhookSecret)")
        lines.append("      oauth \(zoom.oauthURL), api \(zoom.apiURL), rtms hosts \(zoom.rtmsAllowedHosts.joined(separator: ", ")), webhook tolerance \(zoom.webhookToleranceSeconds)s\(zoom.caFile.isEmpty ? "" : ", ca_file \(zoom.caFile)")\(zoom.allowInsecureRTMS ? ", allow_insecure_rtms: true (ws:// accepted)" : "")")
        lines.append("token_store: \(tokenStore.kind.rawValue) \(tokenStore.kind == .sqlite ? tokenStore.path : "\(tokenStore.url)")")
        lines.append("cluster: \(cluster.isEnabled ? "redis \(cluster.redisURL), key_prefix \(cluster.keyPrefix), lease \(cluster.leaseMilliseconds) ms, relay_audio \(cluster.relayAudio), secret \(cluster.secret) (messages signed)" : "off (single instance)")")
        lines.append("access: supervisors \(access.supervisors.isEmpty ? "none" : access.supervisors.joined(separator: ", "))\(access.supervisors.isEmpty ? "" : access.supervisorsControl ? " (may control)" : " (read-only)"), session \(access.sessionMinutes) min")
        lines.append("sinks:\(sinks.isEmpty ? " none" : "")")
        for sink in sinks {
            lines.append("  \(sink.id): type \(sink.typeName), queue \(sink.queue.capacity) \(sink.queue.overflow.rawValue)")
            for (key, value) in Self.fields(of: sink.options) {
                lines.append("    \(key): \(value)")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The stored properties of an options value, by reflection.
    static func fields(of value: Any) -> [(String, String)] {
        Mirror(reflecting: value).children.compactMap { child in
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
            lines.append("    queue: {capacity: N, overflow: block | drop_oldest | drop_newest} (default 50000, drop_newest)")
        }
        return lines.joined(separator: "\n")
    }
}
