import HTTPTypes
import Hummingbird
import RelayCore
import ZoomAPI
import ZoomWebhooks

/// Decides who is calling the browser API: the operator (`server.access_token`), an agent or supervisor (a
/// session token from the Home URL), or anyone when `allow_anonymous` is on (which the config only allows on a
/// loopback host). What that caller may then see is `EngagementAccess`'s decision.
///
/// An anonymous caller must also come from this machine as a browser sees it: `Host` (and `Origin`, when
/// sent) must be a loopback name, and no proxy forwarding header may be present. That refuses tunnels and
/// reverse proxies in front of a loopback relay, and DNS rebinding (a foreign name pointed at 127.0.0.1).
public struct AccessPolicy: Sendable {
    let allowAnonymous: Bool
    let operatorToken: Secret
    let signer: SessionToken.Signer?
    let supervisors: Set<String>
    let supervisorsControl: Bool
    let reviewers: Set<String>

    public init(allowAnonymous: Bool, operatorToken: Secret, signer: SessionToken.Signer?, access: AccessSettings = AccessSettings()) {
        self.allowAnonymous = allowAnonymous
        self.operatorToken = operatorToken
        self.signer = signer
        supervisors = Set(access.supervisors)
        supervisorsControl = access.supervisorsControl
        reviewers = Set(access.qa)
    }

    /// The caller of `request`, or an error message for a 401.
    func authorize(_ request: Request) -> Result<Caller, AccessDenied> {
        let presented = Self.bearer(from: request)
        if let presented {
            if !operatorToken.isEmpty, HMACHex.constantTimeEquals(presented, operatorToken.value) { return .success(.operator) }
            if let signer, let token = signer.verify(presented) {
                if supervisors.contains(token.uid) { return .success(.supervisor(token, mayControl: supervisorsControl)) }
                return .success(reviewers.contains(token.uid) ? .qa(token) : .agent(token))
            }
            if allowAnonymous { return Self.anonymous(request) }
            return .failure(AccessDenied(message: "invalid or expired token; reopen the app in Zoom"))
        }
        if allowAnonymous { return Self.anonymous(request) }
        return .failure(AccessDenied(message: "authentication required: open the app in Zoom, or send Authorization: Bearer <token>"))
    }

    /// Headers a proxy or tunnel adds; their presence means the request did not start on this machine.
    static let forwardingHeaders: [HTTPField.Name] = [
        HTTPField.Name("X-Forwarded-For")!, HTTPField.Name("Forwarded")!, HTTPField.Name("X-Forwarded-Host")!, HTTPField.Name("X-Real-IP")!,
    ]

    /// `.anonymous` when `request` looks local (loopback `Host` and `Origin`, no forwarding headers), else a 403.
    static func anonymous(_ request: Request) -> Result<Caller, AccessDenied> {
        if let name = forwardingHeaders.first(where: { request.headers[$0] != nil }) {
            return .failure(AccessDenied(status: .forbidden, message: "anonymous access is for this machine only, and the request came through a proxy (\(name) is set); use a token"))
        }
        let host = request.head.authority
        guard let host, WebOrigin(scheme: "http", authority: host)?.isLoopback == true else {
            return .failure(AccessDenied(status: .forbidden, message: "anonymous access is for this machine only: Host must be localhost, 127.0.0.1 or [::1], not '\(host ?? "")'"))
        }
        if let origin = request.headers[.origin], WebOrigin(url: origin)?.isLoopback != true {
            return .failure(AccessDenied(status: .forbidden, message: "anonymous access is for this machine only: Origin '\(origin)' is not a loopback origin"))
        }
        return .success(.anonymous)
    }

    /// `Authorization: Bearer …`; or `?access_token=…`, on the event stream (`GET /api/events`) and on a
    /// recording's audio (`GET /api/recordings/{id}/audio`) only, because EventSource and `<audio>` cannot set
    /// headers. Anywhere else a token in the URL is ignored, so that it never authorizes a change.
    static func bearer(from request: Request) -> String? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]).trimmingCharacters(in: .whitespaces) }
            return nil
        }
        guard request.method == .get || request.method == .head,
              request.uri.path == EventStreamRoutes.path || RecordingRoutes.isAudioPath(request.uri.path) else { return nil }
        return request.uri.queryParameters["access_token"].map(String.init)
    }
}

/// A refused call to the browser API: 401 when credentials are missing or wrong, 403 when they cannot help.
struct AccessDenied: Error {
    var status: HTTPResponse.Status = .unauthorized
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
            throw HTTPError(denied.status, headers: denied.status == .unauthorized ? [.wwwAuthenticate: "Bearer"] : [:], message: denied.message)
        }
    }
}
