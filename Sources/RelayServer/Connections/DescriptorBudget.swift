#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's file descriptor limit, and how much of it HTTP clients may take.
///
/// HTTP sockets, RTMS sockets (signaling and media per stream), WAV files, SQLite and Redis share one
/// descriptor table. Unless HTTP is capped below the limit, a flood of HTTP clients makes the next RTMS
/// `socket()` fail with EMFILE and a live call loses its audio. So the cap is never more than the limit minus
/// a reserve: a quarter of the limit, at least 64 — room for the runtime's own descriptors (event loops,
/// standard streams, the listener, the token store) and for dozens of streams with their recordings.
public enum DescriptorBudget {
    /// Descriptors held back from HTTP for everything else.
    public static func reserve(limit: Int) -> Int {
        max(64, limit / 4)
    }

    /// `configured`, lowered so that `reserve(limit:)` descriptors stay free for ingest and storage (at least 1).
    public static func httpConnectionCap(configured: Int, limit: Int = softLimit) -> Int {
        max(1, min(configured, limit - reserve(limit: limit)))
    }

    /// The current soft `RLIMIT_NOFILE`.
    public static var softLimit: Int {
        var limit = rlimit()
        guard getrlimit(resourceNoFile, &limit) == 0 else { return 1024 }
        return limit.rlim_cur >= unlimited ? Int(Int32.max) : Int(limit.rlim_cur)
    }

    /// Raises the soft `RLIMIT_NOFILE` to the hard limit (systemd's soft default of 1024 is far below what a
    /// busy relay needs) and returns the soft limit in force afterwards. Call once at start-up.
    @discardableResult
    public static func raiseSoftLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(resourceNoFile, &limit) == 0 else { return softLimit }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            #if canImport(Darwin)
            // macOS refuses RLIM_INFINITY here; OPEN_MAX is its real ceiling.
            if raised.rlim_cur >= unlimited { raised.rlim_cur = rlim_t(OPEN_MAX) }
            #endif
            _ = setrlimit(resourceNoFile, &raised)
        }
        return softLimit
    }

    #if canImport(Glibc)
    /// `RLIM_INFINITY` (all ones; Swift cannot import the C macro's `-1` as unsigned).
    private static let unlimited = rlim_t.max
    private static let resourceNoFile = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let unlimited = RLIM_INFINITY
    private static let resourceNoFile = RLIMIT_NOFILE
    #endif
}
