import Foundation

/// A plain TCP connection to the relay, for tests that send what an HTTP client library would not: a
/// foreign `Host`, forwarding headers, half a request, or nothing at all.
public final class RawHTTPConnection: @unchecked Sendable {
    // @unchecked: the descriptor is only used from the one test task that owns the connection.
    public let descriptor: Int32
    private var received: [UInt8] = []

    /// Connects to `127.0.0.1:port`, with a receive buffer of `receiveBuffer` bytes when given (a client that
    /// reads slowly); throws when the connection cannot be made.
    public init(port: Int, receiveBuffer: Int32? = nil) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ConnectError(description: "socket() failed: errno \(errno)") }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            close(fd)
            throw ConnectError(description: "cannot connect to port \(port): errno \(code)")
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// The client's own port.
    public var localPort: Int {
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        return Int(UInt16(bigEndian: local.sin_port))
    }

    /// Writes `text` as it is (no framing added).
    public func write(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until the peer closes or `timeout` passes; returns whether it closed. What arrived is in `text`.
    @discardableResult
    public func waitForClose(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while ContinuousClock.now < deadline {
            let left = deadline - ContinuousClock.now
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            guard poll(&poller, 1, milliseconds) > 0 else { continue }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { return true }
            received += buffer[0..<count]
        }
        return false
    }

    /// Everything received so far, as UTF-8.
    public var text: String { String(decoding: received, as: UTF8.self) }

    /// The status code of the first response received, if one has arrived.
    public var status: Int? {
        let line = text.prefix { $0 != "\r" }
        let parts = line.split(separator: " ")
        return parts.count >= 2 && parts[0].hasPrefix("HTTP/") ? Int(parts[1]) : nil
    }

    /// Sends one complete request (`Connection: close` added) and waits for the response.
    public static func exchange(port: Int, _ head: String, body: String = "", timeout: Duration = .seconds(10)) throws -> (status: Int?, text: String) {
        let connection = try RawHTTPConnection(port: port)
        connection.write(head + "Connection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body)
        connection.waitForClose(timeout: timeout)
        return (connection.status, connection.text)
    }

    /// The connection could not be made.
    public struct ConnectError: Error, CustomStringConvertible {
        public var description: String
    }
}
