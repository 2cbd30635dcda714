import Hummingbird

/// The per-request context of the relay's routes: who is calling, once access control has run.
public struct RelayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AccessControlMiddleware` on protected routes.
    public var caller: Caller?

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}
