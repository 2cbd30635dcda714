import Hummingbird

/// Refuses bodies over `server.max_body_bytes` with 413 before any route sees them: by `Content-Length`
/// when given, otherwise while collecting a chunked body. Routes then read `request.body` knowing it is
/// already in memory and small.
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post || request.method == .put || request.method == .patch else {
            return try await next(request, context)
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBytes {
            throw HTTPError(.contentTooLarge, message: "request body over \(maxBytes) bytes")
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: maxBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw HTTPError(.contentTooLarge, message: "request body over \(maxBytes) bytes")
        }
        return try await next(request, context)
    }
}
