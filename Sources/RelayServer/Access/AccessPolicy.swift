import Hummingbird
import RelayCore
import ZoomAPI

/// Decides who may call the control route, the engagement routes and the SSE stream (SPEC §5.4): a valid
/// session token (from the Home URL), the operator's `server.access_token`, or anyone when
/// `allow_anonymous` is on (which the config only allows on a loopback host).
public struct AccessPolicy: Sendable {
    let allowAnonymous: Bool
    let operatorToken: Secret
    let signer: SessionToken.Signer?

    public init(allowAnonymous: Bool, operatorToken: Secret, signer: SessionToken.Signer?) {
        self.allowAnonymous = allowAnonymous
        self.operatorToken = operatorToken
        self.signer = signer
    }

    /// The caller of `request`, or an error message for a 401.
    func authorize(_ request: Request) -> Result<Caller, AccessDenied> {
        let presented = Self.bearer(from: request)
        if let presented {
            if !operatorToken.isEmpty, HMACHex.constantTimeEquals(presented, operatorToken.value) { return .success(.operator) }
            if let signer, let token = signer.verify(presented) { return .success(.user(token)) }
            if allowAnonymous { return .success(.anonymous) }
            return .failure(AccessDenied(message: "invalid or expired token; reopen the app in Zoom"))
        }
        if allowAnonymous { return .success(.anonymous) }
        return .failure(AccessDenied(message: "authentication required: open the app in Zoom, or send Authorization: Bearer <token>"))
    }

    /// `Authorization: Bearer …`, or `?access_token=…` (EventSource cannot set headers).
    static func bearer(from request: Request) -> String? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]).trimmingCharacters(in: .whitespaces) }
            return nil
        }
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
