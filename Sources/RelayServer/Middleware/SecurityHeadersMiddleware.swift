import HTTPTypes
import Hummingbird

/// Headers that let the page run inside the Zoom client and nowhere else: CSP `frame-ancestors` for Zoom's
/// domains, no MIME sniffing, a strict referrer, and HSTS only when the relay is served over HTTPS (HSTS on
/// plain HTTP would lock browsers out of a local relay).
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    let https: Bool

    static var contentSecurityPolicy: String {
        [
            "default-src 'self'",
            "script-src 'self' https://appssdk.zoom.us",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "frame-ancestors 'self' https://*.zoom.us https://*.zoom.com",
            "base-uri 'self'",
            "form-action 'self'",
        ].joined(separator: "; ")
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "same-origin"
        if https {
            response.headers[.strictTransportSecurity] = "max-age=31536000; includeSubDomains"
        }
        return response
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}
