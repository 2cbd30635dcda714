import AsyncHTTPClient
import Foundation
import NIOHTTP1
import RelayCore

/// Zoom's REST API as the relay uses it: RTMS control for ZCC engagements (rtms-protocol.md §14), with a
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
        guard let encoded = engagementID.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) else {
            throw ZoomAPIError.zoom(status: 400, message: "invalid engagement id")
        }
        struct Body: Encodable {
            struct Settings: Encodable { var client_id: String }
            var action: String
            var settings: Settings
        }
        let body = try JSONEncoder().encode(Body(action: action.rawValue, settings: .init(client_id: clientID)))
        _ = try await authorized(.PUT, "\(apiURL)/contact_center/\(encoded)/rtms_app/status", body: body, account: account)
    }

    /// The account id of the user a token belongs to (`GET /users/me`), to key the token store.
    public func accountID(accessToken: String) async throws -> String? {
        let reply = try await http.send(.GET, "\(apiURL)/users/me", headers: [("Authorization", "Bearer \(accessToken)")], body: nil)
        guard reply.status == 200 else { return nil }
        struct Me: Decodable { var account_id: String? }
        return try? JSONDecoder().decode(Me.self, from: reply.body).account_id
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

    static func defaultMessage(_ status: Int) -> String {
        switch status {
        case 404: "engagement not found or not active"
        case 429: "rate limited by Zoom; try again shortly"
        default: "HTTP \(status)"
        }
    }
}
