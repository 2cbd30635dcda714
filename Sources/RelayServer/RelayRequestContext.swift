import Hummingbird
import NIOCore

/// The per-request context of the relay's routes: who is calling, once access control has run.
public struct RelayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AccessControlMiddleware` on protected routes.
    public var caller: Caller?
    /// The connection the request came on (the event stream closes it when a browser stops reading).
    public let channel: any Channel

    /// The caller on a protected route; a 401 if the route was mounted without access control by mistake.
    func requireCaller() throws -> Caller {
        guard let caller else { throw HTTPError(.unauthorized, message: "authentication required") }
        return caller
    }

    public init(source: Source) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
