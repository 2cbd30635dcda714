import HTTPTypes
import Hummingbird
import Logging

/// Logs one line per request: method, path (never the query string, which may carry `access_token`),
/// status and duration.
///
/// Levels follow what an operator needs to see: a successful read (`GET`/`HEAD` below 400: the page and its
/// polling of engagements and auth status, health checks, scrapes) logs at debug, so it does not drown the
/// log; a change (`POST`: webhooks, logins, control) or a refusal (4xx) at info; a server error (5xx) at warning.
struct RequestLoggingMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let path = request.uri.path
        do {
            let response = try await next(request, context)
            log(request, path, status: response.status.code, since: start, context: context)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            log(request, path, status: status, since: start, context: context)
            throw error
        }
    }

    static func level(method: HTTPRequest.Method, status: Int) -> Logger.Level {
        if status >= 500 { return .warning }
        if status < 400, method == .get || method == .head { return .debug }
        return .info
    }

    private func log(_ request: Request, _ path: String, status: Int, since start: ContinuousClock.Instant, context: Context) {
        let level = Self.level(method: request.method, status: status)
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        context.logger.log(level: level, "\(request.method) \(path) \(status)", metadata: ["duration_ms": "\(Int(milliseconds.rounded()))"])
    }
}
