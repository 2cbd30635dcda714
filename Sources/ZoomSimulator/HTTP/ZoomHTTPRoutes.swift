import Foundation
import Hummingbird

/// Zoom's HTTP surface: `zoom.us/oauth/*` and `api.zoom.us/v2/contact_center/{id}/rtms_app/status`, served on one
/// listener.
struct ZoomHTTPRoutes: Sendable {
    let oauth: OAuthAuthority
    let registry: EngagementRegistry
    let control: @Sendable (String, StreamAction) async throws(EngagementRegistry.ControlError) -> Void
    let clientID: String
    let accountID: String
    let authorizingUser: SimulatorConfiguration.SimulatedUser
    /// The injected REST fault, read on every request.
    let fault: @Sendable () -> RESTFault?

    func register(on router: Router<BasicRequestContext>) {
        router.get("/oauth/authorize") { request, _ in try await self.authorize(request) }
        router.post("/oauth/token") { request, context in try await self.token(request, context: context) }
        router.put("/v2/contact_center/:engagementId/rtms_app/status") { request, context in
            try await self.rtmsStatus(request, context: context)
        }
        router.get("/v2/contact_center/engagements/:engagementId") { request, context in
            guard await self.authorized(request) else { return Self.invalidToken }
            guard let engagement = await registry.engagementResource(context.parameters.get("engagementId") ?? "") else {
                return Self.json(status: 404, ["code": 1001, "message": "Engagement does not exist."] as [String: any Sendable])
            }
            return Self.json(status: 200, engagement)
        }
        router.get("/v2/users/me") { request, _ in
            guard await self.authorized(request) else { return Self.invalidToken }
            return Self.json(status: 200, ["id": authorizingUser.id, "account_id": accountID, "role_name": authorizingUser.roleName] as [String: any Sendable])
        }
    }

    /// Whether the request carries a live access token.
    private func authorized(_ request: Request) async -> Bool {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else { return false }
        return await oauth.isValid(accessToken: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
    }

    static var invalidToken: Response { json(status: 401, ["code": 124, "message": "Invalid access token."] as [String: any Sendable]) }

    // MARK: OAuth

    private func authorize(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        do {
            let redirect = query["redirect_uri"].map(String.init)
            let code = try await oauth.authorize(
                clientID: query["client_id"].map(String.init), redirectURI: redirect,
                responseType: query["response_type"].map(String.init),
                challenge: query["code_challenge"].map(String.init), challengeMethod: query["code_challenge_method"].map(String.init))
            var components = URLComponents(string: redirect ?? "")!
            var items = components.queryItems ?? []
            items.append(URLQueryItem(name: "code", value: code))
            if let state = query["state"] { items.append(URLQueryItem(name: "state", value: String(state))) }
            components.queryItems = items
            return Response(status: .found, headers: [.location: components.string ?? ""])
        } catch {
            return Self.json(status: error.status, ["error": error.error, "reason": error.reason])
        }
    }

    private func token(_ request: Request, context: BasicRequestContext) async throws -> Response {
        // Parameters may come as query parameters or as a form body (docs/zoom-rtms.md, "OAuth").
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { parameters[String(key)] = String(value) }
        let body = try await request.body.collect(upTo: 64 * 1024)
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            if parts.count == 2 { parameters[parts[0]] = parts[1] }
        }
        do {
            try await oauth.authenticateClient(authorization: request.headers[.authorization])
            let response: OAuthAuthority.TokenResponse
            switch parameters["grant_type"] {
            case "authorization_code":
                response = try await oauth.exchange(code: parameters["code"], redirectURI: parameters["redirect_uri"], verifier: parameters["code_verifier"])
            case "refresh_token":
                response = try await oauth.refresh(token: parameters["refresh_token"])
            case "account_credentials", "client_credentials":
                response = await oauth.accountCredentials()
            default:
                throw OAuthAuthority.Failure(status: 400, error: "unsupported_grant_type", reason: "Unsupported grant type")
            }
            return Self.json(status: 200, response)
        } catch let failure as OAuthAuthority.Failure {
            return Self.json(status: failure.status, ["error": failure.error, "reason": failure.reason])
        }
    }

    // MARK: REST

    private struct StatusBody: Decodable {
        var action: String
        var settings: Settings?
        struct Settings: Decodable { var clientID: String?; enum CodingKeys: String, CodingKey { case clientID = "client_id" } }
    }

    private func rtmsStatus(_ request: Request, context: BasicRequestContext) async throws -> Response {
        switch fault() {
        case .status(let code):
            return Response(status: .init(code: code), headers: [.contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: "simulated upstream failure")))
        case .delay(let delay):
            try await Task.sleep(for: delay)
        case nil:
            break
        }
        guard await authorized(request) else { return Self.invalidToken }
        let engagementID = context.parameters.get("engagementId") ?? ""
        let body = try await request.body.collect(upTo: 64 * 1024)
        guard let decoded = try? JSONDecoder().decode(StatusBody.self, from: Data(body.readableBytesView)),
            let action = StreamAction(rawValue: decoded.action)
        else { return Self.json(status: 400, ["code": 300, "message": "Invalid request body: action must be start, stop, pause or resume."] as [String: any Sendable]) }
        if let clientID = decoded.settings?.clientID, clientID != self.clientID {
            return Self.json(status: 400, ["code": 300, "message": "Invalid client_id."] as [String: any Sendable])
        }
        do {
            try await control(engagementID, action)
            return Response(status: .noContent)
        } catch .unknownEngagement {
            return Self.json(status: 404, ["code": 1001, "message": "Engagement does not exist or is not active."] as [String: any Sendable])
        } catch .invalidState(let message) {
            return Self.json(status: 400, ["code": 2310, "message": message] as [String: any Sendable])
        }
    }

    // MARK: JSON

    static func json(status: Int, _ value: some Encodable) -> Response {
        let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
        return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func json(status: Int, _ value: [String: any Sendable]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: value)) ?? Data("{}".utf8)
        return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The four actions of `PUT /v2/contact_center/{engagementId}/rtms_app/status`.
public enum StreamAction: String, Sendable {
    case start, stop, pause, resume
}
