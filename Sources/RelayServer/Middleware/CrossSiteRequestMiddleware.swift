import HTTPTypes
import Hummingbird
import RelayCore

/// Refuses cross-site requests that change state (POST, PUT, PATCH, DELETE) before any route sees them.
///
/// A web page can send a "simple" cross-site POST without a CORS preflight as long as its type is
/// `text/plain`, `application/x-www-form-urlencoded` or `multipart/form-data`; requiring
/// `Content-Type: application/json` takes that away (415). A browser also sends `Origin` on such requests,
/// and when it does it must be `server.public_url`'s origin, or a loopback origin when `allow_anonymous` is on
/// (403). Zoom's webhook is exempt: it is checked by its signature, not by where it comes from.
struct CrossSiteRequestMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Origins whose pages may send state-changing requests.
    let allowedOrigin: WebOrigin?
    /// Whether any loopback origin may too (`allow_anonymous`).
    let allowLoopbackOrigins: Bool
    /// Paths that authenticate the sender otherwise.
    let exemptPaths: Set<String>

    init(publicURL: String, allowLoopbackOrigins: Bool, exemptPaths: Set<String> = ["/api/webhooks/zoom"]) {
        allowedOrigin = WebOrigin(url: publicURL)
        self.allowLoopbackOrigins = allowLoopbackOrigins
        self.exemptPaths = exemptPaths
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard [.post, .put, .patch, .delete].contains(request.method), !exemptPaths.contains(request.uri.path) else {
            return try await next(request, context)
        }
        if let origin = request.headers[.origin], !isAllowed(origin: origin) {
            throw HTTPError(.forbidden, message: "cross-site request refused: Origin '\(origin)' is not \(allowedOrigin?.description ?? "server.public_url")")
        }
        let mediaType = request.headers[.contentType]?.split(separator: ";", maxSplits: 1).first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard mediaType == "application/json" else {
            throw HTTPError(.unsupportedMediaType, message: "send the body as JSON with Content-Type: application/json")
        }
        return try await next(request, context)
    }

    func isAllowed(origin: String) -> Bool {
        guard let parsed = WebOrigin(url: origin) else { return false }
        return parsed == allowedOrigin || (allowLoopbackOrigins && parsed.isLoopback)
    }
}
