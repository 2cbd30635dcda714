import AsyncHTTPClient
import Foundation
import NIOCore

/// The first step of Connect to Zoom as the page (or a script) does it: `POST /api/auth/login` with a caller,
/// answered with Zoom's consent URL.
public enum OAuthLogin {
    /// Zoom's authorize URL for a login the relay at `base` started; `authorization` is the caller's
    /// `Authorization` header (none: anonymous on loopback).
    public static func start(base: String, authorization: String? = nil, client: HTTPClient = .shared) async throws -> String {
        var request = HTTPClientRequest(url: base + "/api/auth/login")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        request.body = .bytes(ByteBuffer(string: "{}"))
        let response = try await client.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 16)
        struct Started: Decodable { var authorize_url: String }
        guard response.status == .ok, let started = try? JSONDecoder().decode(Started.self, from: body) else {
            throw Refused(status: Int(response.status.code), body: String(buffer: body))
        }
        return started.authorize_url
    }

    /// The relay did not start the login.
    public struct Refused: Error, CustomStringConvertible {
        public var status: Int
        public var body: String
        public var description: String { "POST /api/auth/login: HTTP \(status) \(body)" }
    }
}
