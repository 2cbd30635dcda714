import Hummingbird

/// The per-request context of the relay's routes. Access control (who is calling) is added here as the
/// browser API grows.
public struct RelayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}
