import HTTPTypes
import Hummingbird
import RelayCore
import ZoomAPI

/// Decides who is calling the browser API: the operator (`server.access_token`), an agent or supervisor (a
/// session token from the Home URL), or anyone when `allow_anonymous` is on (which the config only allows on a
/// loopback host). What that caller may then see is `EngagementAccess`'s decision.
public struct AccessPolicy: Sendable {
    let allowAnonymous: Bool
    let operatorToken: Secret
    let signer: SessionToken.Signer?
    let supervisors: Set<String>
    let supervisorsControl: Bool

    public init(allowAnonymous: Bool, operatorToken: Secret, signer: SessionToken.Signer?, access: AccessSettings = AccessSettings()) {
        self.allowAnonymous = allowAnonymous
        self.operatorToken = operatorToken
        self.signer = signer
        supervisors = Set(access.supervisors)
        supervisorsControl = access.supervisorsControl
    }

    /// The caller of `request`, or an error message for a 401.
    func authorize(_ request: Request) -> Result<Caller, AccessDenied> {
        let presented = Self.bearer(from: request)
        if let presented {
            if !operatorToken.isEmpty, HMACHex.constantTimeEquals(presented, operatorToken.value) { return .success(.operator) }
            if let signer, let token = signer.verify(presented) {
                return .success(supervisors.contains(token.uid) ? .supervisor(token, mayControl: supervisorsControl) : .agent(token))
            }
            if allowAnonymous { return .success(.anonymous) }
            return .failure(AccessDenied(message: "invalid or expired token; reopen the app in Zoom"))
        }
        if allowAnonymous { return .success(.anonymous) }
        return .failure(AccessDenied(message: "authentication required: open the app in Zoom, or send Authorization: Bearer <token>"))
    }

    /// `Authorization: Bearer …`; or `?access_token=…`, on the event stream only (`GET /api/events`), because
    /// EventSource cannot set headers. Anywhere else a token in the URL is ignored, so that it never authorizes
    /// a change and is not worth copying out of an access log.
    static func bearer(from request: Request) -> String? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]).trimmingCharacters(in: .whitespaces) }
            return nil
        }
        guard request.method == .get, request.uri.path == EventStreamRoutes.path else { return nil }
        return request.uri.queryParameters["access_token"].map(String.init)
    }
}

/// A refused call to the browser API.
struct AccessDenied: Error {
    var message: String
}

/// Puts the caller into the context, or answers 401 `{"error": …}`.
struct AccessControlMiddleware: RouterMiddleware {
    typealias Context = RelayRequestContext
    let policy: AccessPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch policy.authorize(request) {
        case .success(let caller):
            var context = context
            context.caller = caller
            return try await next(request, context)
        case .failure(let denied):
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: denied.message)
        }
    }
}
