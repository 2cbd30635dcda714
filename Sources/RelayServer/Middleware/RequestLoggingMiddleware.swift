import Hummingbird
import Logging

/// Logs one line per request: method, path (never the query string, which may carry `access_token`),
/// status and duration. Health checks and scrapes log at debug so they do not drown the log.
struct RequestLoggingMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let path = request.uri.path
        let level: Logger.Level = (path == "/health" || path == "/metrics") ? .debug : .info
        do {
            let response = try await next(request, context)
            log(level, request, path, status: response.status.code, since: start, context: context)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            log(level, request, path, status: status, since: start, context: context)
            throw error
        }
    }

    private func log(_ level: Logger.Level, _ request: Request, _ path: String, status: Int, since start: ContinuousClock.Instant, context: Context) {
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        context.logger.log(level: level, "\(request.method) \(path) \(status)", metadata: ["duration_ms": "\(Int(milliseconds.rounded()))"])
    }
}
