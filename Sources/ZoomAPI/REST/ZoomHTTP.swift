import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import RelayCore

/// The HTTP calls the relay makes to Zoom (OAuth token endpoint, REST), on AsyncHTTPClient: it runs on
/// the same NIO event loops as the server, supports async/await and deadlines, and needs no libcurl.
struct ZoomHTTP: Sendable {
    let client: HTTPClient
    let timeout: TimeAmount

    struct Reply: Sendable {
        var status: Int
        var body: Data
    }

    func send(_ method: HTTPMethod, _ url: String, headers: [(String, String)], body: Data?) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: timeout)
        } catch {
            throw ZoomAPIError.unreachable("\(method) \(Self.redactQuery(url)): \(error)")
        }
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: Int(response.status.code), body: Data(bytes.readableBytesView))
    }

    /// The URL without its query string (which may carry codes), for error messages.
    static func redactQuery(_ url: String) -> String {
        url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
    }
}

/// Zoom's error body: `{"code": 124, "message": "Invalid access token."}`, or OAuth's `{"reason", "error"}`.
struct ZoomErrorBody: Decodable {
    var code: Int?
    var message: String?
    var reason: String?
    var error: String?

    static func message(from data: Data) -> String? {
        guard let body = try? JSONDecoder().decode(ZoomErrorBody.self, from: data) else { return nil }
        let text = body.message ?? body.reason ?? body.error
        guard let text else { return nil }
        return body.code.map { "\(text) (Zoom code \($0))" } ?? text
    }
}

/// Why a call to Zoom failed, with the HTTP status the relay should pass back.
public enum ZoomAPIError: Error, CustomStringConvertible, Sendable, Equatable {
    /// No account has connected, or its refresh failed: the page should offer "Connect to Zoom".
    case notAuthenticated(String)
    /// Zoom answered with an error.
    case zoom(status: Int, message: String)
    /// Zoom could not be reached.
    case unreachable(String)
    /// OAuth refused the grant (expired/used code or refresh token).
    case invalidGrant(String)

    public var description: String {
        switch self {
        case .notAuthenticated(let message): message
        case .zoom(let status, let message): "Zoom answered \(status): \(message)"
        case .unreachable(let message): "Zoom could not be reached: \(message)"
        case .invalidGrant(let message): "Zoom refused the authorization: \(message)"
        }
    }

    /// The status to answer the browser with.
    public var httpStatus: Int {
        switch self {
        case .notAuthenticated, .invalidGrant: 401
        case .zoom(let status, _):
            switch status {
            case 400, 404, 409, 422, 429: status
            case 401, 403: 401
            default: 502
            }
        case .unreachable: 502
        }
    }
}

extension HTTPClient {
    private static let proxied = NIOLockedValueBox([OutboundProxy: HTTPClient]())

    /// The client for Zoom's OAuth and REST calls: `.shared` without a proxy; with one, a client configured to
    /// go through it (HTTPS by a CONNECT tunnel, so TLS stays end to end), made once per proxy and kept for the
    /// life of the process as `.shared` is.
    public static func zoom(proxy: OutboundProxy?) -> HTTPClient {
        guard let proxy else { return .shared }
        return proxied.withLockedValue { clients in
            if let client = clients[proxy] { return client }
            var configuration = HTTPClient.Configuration()
            configuration.proxy = .server(host: proxy.host, port: proxy.port,
                                          authorization: proxy.credentials.map { .basic(credentials: Base64.encode(Array($0.value.utf8))) })
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            clients[proxy] = client
            return client
        }
    }
}
