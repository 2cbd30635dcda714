import Foundation
import RelayCore
import RelayTesting
import Testing

/// `rtms-relay check-config` (the real binary) on the security-relevant keys.
@Suite("check-config: security keys")
struct ConfigSecurityTests {
    func checkConfig(_ yaml: String) async throws -> (Int32, String) {
        let directory = try RelayProcess.makeTemporaryDirectory()
        try yaml.write(to: directory.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        let (status, out, err) = try await RelayProcess.run(["check-config", "config.yaml"], directory: directory)
        return (status, out + err)
    }

    @Test("security #17: allow_anonymous needs a literal loopback host; '127.attacker.example' and similar names are refused")
    func loopbackIsLiteral() async throws {
        for host in ["127.attacker.example", "127.0.0.1.nip.io", "127.1", "localhost.attacker.example"] {
            let (status, output) = try await checkConfig("server: {host: \(host), allow_anonymous: true}\n")
            #expect(status == 1, "\(host) was accepted: \(output)")
            #expect(output.contains("allow_anonymous"), "\(output)")
        }
        for host in ["127.0.0.1", "127.0.0.2", "localhost", "::1"] {
            let (status, output) = try await checkConfig("server: {host: \"\(host)\", allow_anonymous: true}\n")
            #expect(status == 0, "\(host) was refused: \(output)")
        }
        #expect(ServerSettings.isLoopback("127.255.255.254") && ServerSettings.isLoopback("[::1]"))
        #expect(!ServerSettings.isLoopback("127.0.0.256") && !ServerSettings.isLoopback("127.0.0") && !ServerSettings.isLoopback("0x7f.0.0.1"))
    }

    @Test("security #11: check-config refuses cluster mode without cluster.secret and says what to set; with one it is shown redacted")
    func clusterSecret() async throws {
        let (status, output) = try await checkConfig("cluster: {redis_url: \"redis://127.0.0.1:6379/0\"}\n")
        #expect(status == 1)
        #expect(output.contains("cluster.secret") && output.contains("is required when redis_url is set"), "\(output)")
        let secret = "s3cr3t-cluster-key-for-check-config"
        let (ok, shown) = try await checkConfig("cluster: {redis_url: \"redis://127.0.0.1:6379/0\", secret: \"${CLUSTER_SECRET_FOR_TEST:-\(secret)}\"}\n")
        #expect(ok == 0, "\(shown)")
        #expect(shown.contains("secret [redacted]") && !shown.contains(secret), "\(shown)")
    }

    @Test("security #5: check-config shows zoom.allow_insecure_rtms when it admits ws://; it is off by default")
    func insecureRTMS() async throws {
        let (status, output) = try await checkConfig("zoom: {allow_insecure_rtms: true}\n")
        #expect(status == 0, "\(output)")
        #expect(output.contains("allow_insecure_rtms: true"), "\(output)")
        let (_, plain) = try await checkConfig("zoom: {rtms_allowed_hosts: [\"*.zoom.us\"]}\n")
        #expect(!plain.contains("allow_insecure_rtms"))
    }
}
