import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import RelayTesting
import ZoomAPI

/// A caller of the relay's browser API, as a browser or a script would be: a session from the Home URL, the
/// operator token, or nobody.
struct SecurityClient {
    /// Redirects are shown, not followed, so that tests see where the relay sends the browser.
    static let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    let base: String
    /// The `Authorization` header value, if any.
    var authorization: String?

    struct Reply {
        var status: Int
        var location: String?
        var body: String
        var headers = HTTPHeaders()
        /// The body as it came (`body` is its UTF-8 reading).
        var bytes: [UInt8] = []
    }

    init(_ harness: RelayHarness, authorization: String? = nil) {
        base = "http://127.0.0.1:\(harness.relayPort)"
        self.authorization = authorization
    }

    /// A session the way an agent gets one: the Home URL opened inside Zoom, with an `x-zoom-app-context`
    /// sealed with the app's client secret.
    static func agent(_ harness: RelayHarness, uid: String, account: String) async throws -> SecurityClient {
        let context = try AppContext.encrypt(Data(#"{"typ":"panel","uid":"\#(uid)","aid":"\#(account)","ts":\#(Int64(Date().timeIntervalSince1970 * 1000))}"#.utf8),
                                             clientSecret: "SIMCLIENTSECRET")
        let page = try await SecurityClient(harness).send("/", headers: ["x-zoom-app-context": context])
        guard let match = page.body.firstMatch(of: /<meta name="rtms-relay-session" content="([^"]+)">/) else {
            throw SessionRefused(page: page.body)
        }
        return SecurityClient(harness, authorization: "Bearer \(match.1)")
    }

    struct SessionRefused: Error { var page: String }

    func send(_ path: String, method: HTTPMethod = .GET, json: String? = nil, headers: [String: String] = [:]) async throws -> Reply {
        var request = HTTPClientRequest(url: path.hasPrefix("http") ? path : base + path)
        request.method = method
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await Self.http.execute(request, timeout: .seconds(20))
        let body = try await response.body.collect(upTo: 1 << 22)
        return Reply(status: Int(response.status.code), location: response.headers.first(name: "location"), body: String(buffer: body), headers: response.headers,
                     bytes: Array(body.readableBytesView))
    }

    func control(_ engagement: String, _ action: String, query: String = "") async throws -> Reply {
        try await send("/api/zoom/rtms/control" + query, method: .POST, json: #"{"engagementId":"\#(engagement)","action":"\#(action)"}"#)
    }

    /// The engagement ids `GET /api/engagements` lists for this caller.
    func engagements() async throws -> [String] {
        let reply = try await send("/api/engagements")
        struct List: Decodable { struct Item: Decodable { var engagementId: String }; var engagements: [Item] }
        guard reply.status == 200, let list = try? JSONDecoder().decode(List.self, from: Data(reply.body.utf8)) else {
            throw UnexpectedReply(reply: reply)
        }
        return list.engagements.map(\.engagementId)
    }

    struct UnexpectedReply: Error { var reply: Reply }

    /// The status of `GET /api/events…`, and what the stream sent within `window` (the relay replays the recent
    /// history to a new subscriber, so past events show up at once).
    func events(_ query: String, window: Duration = .seconds(2)) async throws -> (status: Int, text: String) {
        var request = HTTPClientRequest(url: base + "/api/events" + query)
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        // A client of its own, shut down at the end: that closes the connection, as a closed tab does.
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let response = try await client.execute(request, timeout: .seconds(20))
        let received = NIOLockedValueBox("")
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do { for try await chunk in response.body { received.withLockedValue { $0 += String(buffer: chunk) } } } catch {}
            }
            group.addTask { try? await Task.sleep(for: window) }
            await group.next()
            group.cancelAll()
        }
        try? await client.shutdown()
        return (Int(response.status.code), received.withLockedValue { $0 })
    }

    /// Connect to Zoom as this caller: start the login, let the simulated Zoom consent, and return where the
    /// callback sends the browser (Zoom's redirect carries no `Authorization` header).
    func connectZoom() async throws -> String? {
        let authorize = try await OAuthLogin.start(base: base, authorization: authorization, client: Self.http)
        let consent = try await send(authorize)
        guard let callback = consent.location.flatMap({ URLComponents(string: $0) }) else { throw UnexpectedReply(reply: consent) }
        var browser = self
        browser.authorization = nil
        return try await browser.send("/api/auth/callback?\(callback.percentEncodedQuery ?? "")").location
    }
}
