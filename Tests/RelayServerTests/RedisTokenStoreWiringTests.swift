import Logging
import RelayCore
import RelayServer
import RelayTesting
import Testing
import ZoomAPI

@Suite("token_store.kind: redis")
struct RedisTokenStoreWiringTests {
    func configuration(url: String) throws -> RelayConfiguration {
        let yaml = """
            zoom:
              client_id: cid
              client_secret: app-client-secret
              webhook_secret: wh
            token_store:
              kind: redis
              url: \(url)
            """
        return try ConfigLoader(registry: SinkRegistry(), environment: [:]).parse(yaml: yaml, file: "test.yaml", environment: [:])
    }

    @Test("the relay keeps its OAuth tokens in the Redis named by token_store.url")
    func usesRedis() async throws {
        try await RedisServerProcess.withServer { server in
            let zoom = try ZoomConnection(configuration: try configuration(url: server.url), logger: Logger(label: "test"))
            #expect(zoom.store is RedisTokenStore)
            try await zoom.store.save(account: "acc", tokens: OAuthTokens(accessToken: "a", refreshToken: "r", expiresAtMillis: 1))
            let other = try ZoomConnection(configuration: try configuration(url: server.url), logger: Logger(label: "test"))
            #expect(try await other.store.load(account: "acc")?.tokens?.refreshToken == "r")
        }
    }

    @Test("an unusable token_store.url is a config error")
    func badURL() throws {
        #expect(throws: ConfigError.self) { try ZoomConnection(configuration: try configuration(url: "http://example.com"), logger: Logger(label: "test")) }
    }
}
