import Foundation
import RelayCore
import RelayTesting
import Testing

/// `zoom.proxy` / `HTTPS_PROXY`: every outbound connection goes through an HTTP proxy, as enterprise networks
/// require. A real proxy on loopback (`TestProxy`) records what it was asked for.
@Suite("Outbound proxy: RTMS WebSockets and Zoom's OAuth go through zoom.proxy")
struct OutboundProxyTests {
    @Test("wss:// signaling and media are tunnelled with CONNECT (credentials sent), and the audio arrives exactly; OAuth goes through the proxy too")
    func tunnelled() async throws {
        let proxy = try await TestProxy.start(credentials: "relay:s3cret")
        defer { Task { await proxy.stop() } }
        try await RelayHarness.run(allowedHosts: ["localhost"], tls: true, zoomYAML: "proxy: http://relay:s3cret@127.0.0.1:\(proxy.port)") { h in
            let engagement = await h.simulator.createEngagement()
            let started = try await h.simulator.startStream(engagementID: engagement)
            try await h.waitForAudio(stream: started.streamID, perChannel: 10)
            try await h.simulator.stopStream(engagementID: engagement)
            try await h.waitFor(.streamStopped, stream: started.streamID)
            try await expectExactAudio(h, streamID: started.streamID)

            // The signaling and the media socket both went through a tunnel to the simulator's host and port,
            // not around the proxy (the relay's allow-list names only localhost, so a direct connection would
            // have been to the same place: the proxy's record is what shows the route).
            let signaling = try #require(URLComponents(string: try await h.simulator.endpoints().signalingURLs[0]))
            let tunnels = proxy.requests.filter { $0.hasPrefix("CONNECT ") }
            #expect(tunnels.first == "CONNECT localhost:\(signaling.port ?? 0)", "\(proxy.requests)")
            #expect(tunnels.count >= 2 && tunnels.allSatisfy { $0.hasPrefix("CONNECT localhost:") }, "signaling and media: \(proxy.requests)")
            #expect(proxy.refused == 0)

            // OAuth (plain http:// to the simulator here) goes through a tunnel too: AsyncHTTPClient opens one for
            // every request, so the proxy sees CONNECT to the OAuth server's address.
            let zoom = try #require(h.relay.zoom)
            await #expect(throws: (any Error).self) { _ = try await zoom.oauth.refresh(refreshToken: "not-a-token") }
            let oauth = try #require(URLComponents(string: h.relay.configuration.zoom.oauthURL))
            #expect(proxy.requests.last == "CONNECT \(oauth.host ?? ""):\(oauth.port ?? 0)", "\(proxy.requests)")
            #expect(!h.logs.all.contains { $0.contains("s3cret") }, "the proxy password was logged")
        }
    }

    @Test("a proxy that refuses the relay's credentials: the stream is not connected around it, and the log says why")
    func refused() async throws {
        let proxy = try await TestProxy.start(credentials: "relay:right")
        defer { Task { await proxy.stop() } }
        try await RelayHarness.run(zoomYAML: "proxy: http://relay:wrong@127.0.0.1:\(proxy.port)") { h in
            let engagement = await h.simulator.createEngagement()
            let started = try await h.simulator.startStream(engagementID: engagement)
            try await waitUntil(timeout: .seconds(20), "a refused tunnel in the log") {
                h.logs.all.contains { $0.contains("did not open a tunnel to 127.0.0.1:") && $0.contains("407") }
            }
            #expect(proxy.refused >= 1)
            #expect(h.audio(stream: started.streamID).isEmpty, "audio arrived around the proxy")
            #expect(!h.logs.all.contains { $0.contains("relay:wrong") })
        }
    }

    @Test("the proxy URL is checked at start-up: https:// proxies, a missing port and a path are refused naming the key; HTTPS_PROXY is used when zoom.proxy is absent, and proxy: \"\" turns it off")
    func configuration() throws {
        let loader = ConfigLoader(registry: SinkRegistry(), environment: [:])
        func load(_ proxy: String?, environment: [String: String] = [:]) throws -> RelayConfiguration {
            try loader.parse(yaml: "zoom:\n  client_id: a\n" + (proxy.map { "  proxy: \"\($0)\"\n" } ?? "") + "sinks: {}\n", file: "c.yaml", environment: environment)
        }
        let parsed = try #require(try load("http://u:p%40x@proxy.corp:3128").zoom.proxy)
        #expect(parsed.host == "proxy.corp" && parsed.port == 3128 && parsed.credentials?.value == "u:p@x")
        #expect(parsed.authorization == "Basic " + Base64.encode(Array("u:p@x".utf8)))
        #expect(try load("http://u:p@proxy.corp:3128").zoom.proxy?.description == "http://[redacted]@proxy.corp:3128")
        for (bad, says) in [("https://proxy.corp:3128", "reached over TLS"), ("http://proxy.corp", "names no port"),
                            ("http://proxy.corp:3128/x", "path"), ("socks5://proxy.corp:1080", "socks5://"), ("http://:3128", "no host")] {
            #expect {
                try load(bad)
            } throws: { error in
                "\(error)".hasPrefix("c.yaml:3: zoom.proxy: ") && "\(error)".contains(says)
            }
        }
        let fromEnvironment = try load(nil, environment: ["HTTPS_PROXY": "http://env.corp:8080"])
        #expect(fromEnvironment.zoom.proxy?.host == "env.corp")
        #expect(fromEnvironment.summary().contains("proxy http://env.corp:8080 (HTTPS_PROXY)"))
        #expect(try load("", environment: ["HTTPS_PROXY": "http://env.corp:8080"]).zoom.proxy == nil)
        #expect {
            try load(nil, environment: ["https_proxy": "ftp://env.corp:21"])
        } throws: { error in
            "\(error)".contains("https_proxy (from the environment, as zoom.proxy is not set)")
        }
    }
}
