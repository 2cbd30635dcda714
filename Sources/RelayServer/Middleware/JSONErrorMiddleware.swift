import Hummingbird
import Logging

/// Turns every error a route throws into `{"error": "<message>"}` with a fitting status, so clients see
/// one error shape and nothing internal (a stack, a secret, a file path) leaks out of an unexpected error.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            var response = Response.jsonError(error.body ?? Self.defaultMessage(error.status), status: error.status)
            for field in error.headers where field.name != .contentType && field.name != .contentLength {
                response.headers.append(field)
            }
            return response
        } catch let error as any HTTPResponseError {
            return Response.jsonError(Self.defaultMessage(error.status), status: error.status)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return Response.jsonError("internal error", status: .internalServerError)
        }
    }

    static func defaultMessage(_ status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "not found"
        case .methodNotAllowed: "method not allowed"
        case .contentTooLarge: "request body too large"
        case .badRequest: "bad request"
        case .unauthorized: "unauthorized"
        default: status.reasonPhrase.lowercased()
        }
    }
}
