#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed file operation of the WAV sink, with the path and the system's reason, worded for `/health`
/// and the log (`cannot write data/recordings/e1/s1/agent.wav: No space left on device`).
struct WAVWriteError: Error, CustomStringConvertible, Equatable {
    var operation: String
    var path: String
    var code: Int32

    init(_ operation: String, _ path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    var reason: String { String(cString: strerror(code)) }
    var description: String { "cannot \(operation) \(path): \(reason)" }
}
