import AsyncHTTPClient
import Foundation
import NIOHTTP1
import RelayCore

/// Zoom's REST API as the relay uses it: RTMS control for ZCC engagements (docs/zoom-rtms.md, "REST: RTMS control"), with a
/// valid token from the `TokenRefresher` and one retry after a 401.
public struct ZoomRESTClient: Sendable {
    public let apiURL: String
    public let clientID: String
    let refresher: TokenRefresher
    let http: ZoomHTTP

    public init(apiURL: String, clientID: String, refresher: TokenRefresher, httpClient: HTTPClient = .shared, timeout: Duration = .seconds(10)) {
        self.apiURL = apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL
        self.clientID = clientID
        self.refresher = refresher
        http = ZoomHTTP(client: httpClient, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
    }

    /// `PUT {api_url}/contact_center/{engagementId}/rtms_app/status` with `{"action", "settings":{"client_id"}}`.
    public func setRTMSStatus(engagementID: String, action: StreamAction, account: String) async throws {
        let encoded = try Self.pathSegment(engagementID)
        struct Body: Encodable {
            struct Settings: Encodable { var client_id: String }
            var action: String
            var settings: Settings
        }
        let body = try JSONEncoder().encode(Body(action: action.rawValue, settings: .init(client_id: clientID)))
        _ = try await authorized(.PUT, "\(apiURL)/contact_center/\(encoded)/rtms_app/status", body: body, account: account)
    }

    /// The agents Zoom lists on an engagement of `account` (`GET {api_url}/contact_center/engagements/{id}`,
    /// `agents[].user_id`); nil when Zoom does not know the engagement in that account (404). See
    /// docs/security.md for how the relay uses it.
    public func engagementAgents(engagementID: String, account: String) async throws -> Set<String>? {
        let encoded = try Self.pathSegment(engagementID)
        do {
            let body = try await authorized(.GET, "\(apiURL)/contact_center/engagements/\(encoded)", body: nil, account: account)
            struct Engagement: Decodable {
                struct Agent: Decodable { var user_id: String? }
                var agents: [Agent]?
            }
            let agents = try JSONDecoder().decode(Engagement.self, from: body).agents ?? []
            return Set(agents.compactMap(\.user_id).filter { !$0.isEmpty })
        } catch ZoomAPIError.zoom(status: 404, _) {
            return nil
        }
    }

    /// Who a freshly authorized token belongs to (`GET {api_url}/users/me`): the user, the account, and whether
    /// the user is an owner or admin of that account.
    public func tokenOwner(accessToken: String) async throws -> TokenOwner {
        let reply = try await http.send(.GET, "\(apiURL)/users/me", headers: [("Authorization", "Bearer \(accessToken)"), ("Accept", "application/json")], body: nil)
        guard reply.status == 200 else {
            throw ZoomAPIError.zoom(status: reply.status, message: ZoomErrorBody.message(from: reply.body) ?? Self.defaultMessage(reply.status))
        }
        struct Me: Decodable { var id: String?; var account_id: String?; var role_name: String?; var role_id: String? }
        guard let me = try? JSONDecoder().decode(Me.self, from: reply.body), let user = me.id, !user.isEmpty,
              let account = me.account_id, !account.isEmpty else {
            throw ZoomAPIError.zoom(status: 502, message: "Zoom did not say which user and account the token belongs to")
        }
        let role = me.role_name?.lowercased()
        return TokenOwner(user: user, account: account, isAdmin: role == "owner" || role == "admin" || me.role_id == "0" || me.role_id == "1")
    }

    /// An id as one URL path segment: percent-encoded, never `.` or `..`, at most 256 characters.
    static func pathSegment(_ id: String) throws -> String {
        guard !id.isEmpty, id.utf8.count <= 256, id != ".", id != "..",
              let encoded = id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) else {
            throw ZoomAPIError.zoom(status: 400, message: "invalid engagement id")
        }
        return encoded
    }

    /// Sends a request with the account's token; on 401 refreshes once and retries.
    private func authorized(_ method: HTTPMethod, _ url: String, body: Data?, account: String) async throws -> Data {
        var token = try await refresher.accessToken(account: account)
        for attempt in 0..<2 {
            let reply = try await http.send(method, url, headers: [
                ("Authorization", "Bearer \(token)"), ("Content-Type", "application/json"), ("Accept", "application/json"),
            ], body: body)
            if (200..<300).contains(reply.status) { return reply.body }
            if reply.status == 401, attempt == 0 {
                token = try await refresher.accessTokenAfterUnauthorized(account: account, rejected: token)
                continue
            }
            let message = ZoomErrorBody.message(from: reply.body) ?? Self.defaultMessage(reply.status)
            throw ZoomAPIError.zoom(status: reply.status, message: message)
        }
        throw ZoomAPIError.notAuthenticated("Zoom rejected the refreshed token; connect to Zoom again")
    }

    /// The user behind an OAuth token, from `GET /users/me`.
    public struct TokenOwner: Sendable, Equatable {
        public var user: String
        public var account: String
        /// An owner or admin of the account (Zoom's `role_name` `Owner`/`Admin`, or `role_id` 0/1).
        public var isAdmin: Bool
    }

    static func defaultMessage(_ status: Int) -> String {
        switch status {
        case 404: "engagement not found or not active"
        case 429: "rate limited by Zoom; try again shortly"
        default: "HTTP \(status)"
        }
    }
}
