import RedisClient

/// Runs a Redis call, and once more if it failed on the connection: a connection left idle across a Redis restart
/// is broken, and its first command fails although Redis is back (the retry reconnects). A command that did run
/// before its reply was lost runs twice; every caller here tolerates that (see `RedisCluster.claim`).
func retryingOnce<T>(isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as RedisError where error.isConnectionFailure {
        return try await body()
    }
}
