import Logging
import RelayCore
import RelayServer
import RelayTesting
import Testing

@Suite("cluster.redis_url wiring")
struct ClusterWiringTests {
    static let secret = "wiring-test-cluster-secret"

    func relay(cluster: String) throws -> Relay {
        let yaml = """
            zoom: {client_id: cid, client_secret: secret, webhook_secret: wh}
            token_store: {path: /tmp/rtms-cluster-wiring-\(UInt64.random(in: 0...UInt64.max)).sqlite}
            \(cluster)
            """
        let configuration = try ConfigLoader(registry: SinkRegistry(), environment: [:]).parse(yaml: yaml, file: "test.yaml", environment: [:])
        return try Relay(configuration: configuration, sinkRegistry: SinkRegistry(), logger: Logger(label: "test"))
    }

    @Test("without cluster.redis_url the relay is a single instance: no cluster, no cluster entry on /health")
    func singleInstance() throws {
        let relay = try relay(cluster: "")
        #expect(relay.cluster == nil)
        #expect(relay.hub.snapshot().isEmpty)
    }

    @Test("with cluster.redis_url the relay gets the cluster and its event relay shows on /health as 'cluster'")
    func clusterMode() throws {
        let relay = try relay(cluster: "cluster: {redis_url: \"redis://127.0.0.1:1/0\", lease_ms: 900, secret: \(Self.secret)}")
        let cluster = try #require(relay.cluster)
        #expect(cluster.leaseDuration == .milliseconds(900))
        #expect(cluster.keys.lease("s1") == "rtms-relay:lease:s1")
        #expect(relay.hub.snapshot().map(\.id) == ["cluster"])
    }

    @Test("an unusable cluster.redis_url is a config error at its line, naming the key and the problem")
    func badURL() throws {
        #expect {
            try relay(cluster: "cluster: {redis_url: \"http://127.0.0.1:6379\", secret: \(Self.secret)}")
        } throws: { error in
            "\(error)" == "test.yaml:3: cluster.redis_url: invalid Redis URL: scheme 'http' is not supported (use redis://; TLS is not available in this build)"
        }
        #expect {
            try relay(cluster: "cluster: {redis_url: \"redis://127.0.0.1:6379/zero\", secret: \(Self.secret)}")
        } throws: { error in
            "\(error)" == "test.yaml:3: cluster.redis_url: invalid Redis URL: database 'zero' is not a number (redis://host:port/0)"
        }
    }

    @Test("security #11: cluster mode without cluster.secret is a config error that says what to set; check-config redacts it")
    func secretRequired() throws {
        #expect {
            try relay(cluster: "cluster: {redis_url: \"redis://127.0.0.1:1/0\"}")
        } throws: { error in
            "\(error)".contains("cluster.secret") && "\(error)".contains("is required when redis_url is set")
        }
        #expect(throws: (any Error).self) { try relay(cluster: "cluster: {redis_url: \"redis://127.0.0.1:1/0\", secret: short}") }
        let configured = try relay(cluster: "cluster: {redis_url: \"redis://127.0.0.1:1/0\", secret: \(Self.secret)}")
        let summary = configured.configuration.summary()
        #expect(summary.contains("secret [redacted]"))
        #expect(!summary.contains(Self.secret))
    }
}
