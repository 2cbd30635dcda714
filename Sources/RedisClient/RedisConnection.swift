import CHiredis
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One connection to a Redis server through libhiredis — the only Swift file that touches its C pointers
/// (STYLE rule 10).
///
/// Every hiredis call is blocking, so each connection owns a serial `DispatchQueue` and runs them there,
/// bridged to `async` with continuations: the cooperative thread pool never blocks on the network. The
/// connection is lazy and self-healing: the first command connects (with `connectTimeout`, then `AUTH` and
/// `SELECT` from the URL), and after an I/O error the broken context is dropped and the next command
/// connects afresh. Retrying is the caller's decision (`RedisError.isConnectionFailure`).
public final class RedisConnection: @unchecked Sendable {
    // @unchecked: `context` is only read or written on `queue`, a serial queue, and never escapes it.
    private var context: UnsafeMutablePointer<redisContext>?
    private let queue: DispatchQueue

    /// Where and how to connect.
    public let url: RedisURL
    /// Bounds connecting (TCP connect) to the server.
    public let connectTimeout: Duration
    /// Bounds each blocking read and write; nil waits forever (a `SUBSCRIBE` connection).
    public let commandTimeout: Duration?

    /// Makes a connection that connects on first use. Throws only for a URL it cannot use.
    public init(url: RedisURL, connectTimeout: Duration = .seconds(2), commandTimeout: Duration? = .seconds(5)) {
        self.url = url
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        queue = DispatchQueue(label: "rtms-relay.redis.\(url.host):\(url.port)")
        _ = Self.ignoreBrokenPipe
    }

    /// hiredis writes with plain `write(2)`: a server that went away would kill the process with SIGPIPE
    /// (hiredis's README asks callers to ignore it). Done once, and only if nobody installed a handler.
    private static let ignoreBrokenPipe: Void = {
        var current = sigaction()
        guard sigaction(SIGPIPE, nil, &current) == 0 else { return }
        #if os(Linux)
        let isDefault = current.__sigaction_handler.sa_handler == nil
        #else
        let isDefault = current.__sigaction_u.__sa_handler == nil
        #endif
        if isDefault { signal(SIGPIPE, SIG_IGN) }
    }()

    /// Parses `url` (`redis://[user:password@]host[:port][/db]`) and makes a lazy connection.
    public convenience init(url: String, connectTimeout: Duration = .seconds(2), commandTimeout: Duration? = .seconds(5)) throws {
        self.init(url: try RedisURL(url), connectTimeout: connectTimeout, commandTimeout: commandTimeout)
    }

    deinit {
        if let context { redisFree(context) }
    }

    /// Connects now (if not connected yet), so a caller can report an unreachable server early.
    public func connect() async throws {
        try await onQueue { _ = try self.ensureConnected() }
    }

    /// Drops the current connection (if any) and connects again.
    public func reconnect() async throws {
        try await onQueue {
            self.dropContext()
            _ = try self.ensureConnected()
        }
    }

    /// Closes the connection; a later command connects again.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                self.dropContext()
                continuation.resume()
            }
        }
    }

    /// Sends one command and waits for its reply. A Redis error reply is returned as `.error`, not thrown;
    /// connection failures throw `RedisError`.
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RedisReply {
        try await pipeline([command])[0]
    }

    /// Sends one command given as strings, e.g. `send("SET", key, value)`.
    @discardableResult
    public func send(_ name: String, _ arguments: String...) async throws -> RedisReply {
        try await send(RedisCommand(name, arguments))
    }

    /// Pipelining: appends every command to the output buffer, writes them in one go and reads the replies
    /// in order. When the connection fails part-way, the thrown `RedisError.connection` says how many replies
    /// were read: those commands were certainly executed, the rest may or may not have been.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        return try await onQueue {
            let context = try self.ensureConnected()
            for command in commands {
                guard Self.append(command, to: context) == REDIS_OK else {
                    throw self.failure(context, repliesRead: 0)
                }
            }
            var replies: [RedisReply] = []
            replies.reserveCapacity(commands.count)
            for _ in commands {
                replies.append(try self.readReply(context, repliesRead: replies.count))
            }
            return replies
        }
    }

    /// Sends commands without reading their replies — for `SUBSCRIBE`, whose confirmations and messages are
    /// then read with `receive()`.
    public func write(_ commands: [RedisCommand]) async throws {
        try await onQueue {
            let context = try self.ensureConnected()
            for command in commands where Self.append(command, to: context) != REDIS_OK {
                throw self.failure(context, repliesRead: 0)
            }
            var done: Int32 = 0
            while done == 0 {
                guard redisBufferWrite(context, &done) == REDIS_OK else { throw self.failure(context, repliesRead: 0) }
            }
        }
    }

    /// Reads the next reply the server pushes (a pub/sub message), blocking up to `commandTimeout`.
    public func receive() async throws -> RedisReply {
        try await onQueue {
            guard let context = self.context else { throw RedisError.connection("not connected", repliesRead: 0) }
            return try self.readReply(context, repliesRead: 0)
        }
    }

    // MARK: - On the queue only

    private func onQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    private func ensureConnected() throws -> UnsafeMutablePointer<redisContext> {
        if let context, context.pointee.err == 0 { return context }
        dropContext()
        guard let fresh = redisConnectWithTimeout(url.host, Int32(url.port), Self.makeTimeval(connectTimeout)) else {
            throw RedisError.connection("cannot allocate a hiredis context", repliesRead: 0)
        }
        guard fresh.pointee.err == 0 else {
            let message = Self.errorString(fresh)
            redisFree(fresh)
            throw RedisError.connection("cannot connect to \(url.host):\(url.port): \(message)", repliesRead: 0)
        }
        // Set the read/write timeout explicitly (zero: none) rather than rely on what a hiredis version does
        // with the connect timeout.
        _ = redisSetTimeout(fresh, Self.makeTimeval(commandTimeout ?? .zero))
        context = fresh
        do {
            if let password = url.password {
                let auth = url.user.map { RedisCommand("AUTH", [$0, password]) } ?? RedisCommand("AUTH", [password])
                if case .error(let message) = try command(auth, on: fresh) {
                    throw RedisError.rejected("AUTH: \(message)")
                }
            }
            if url.database != 0, case .error(let message) = try command(RedisCommand("SELECT", ["\(url.database)"]), on: fresh) {
                throw RedisError.rejected("SELECT \(url.database): \(message)")
            }
        } catch {
            dropContext()
            throw error
        }
        return fresh
    }

    private func command(_ command: RedisCommand, on context: UnsafeMutablePointer<redisContext>) throws -> RedisReply {
        guard Self.append(command, to: context) == REDIS_OK else { throw failure(context, repliesRead: 0) }
        return try readReply(context, repliesRead: 0)
    }

    private func readReply(_ context: UnsafeMutablePointer<redisContext>, repliesRead: Int) throws -> RedisReply {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
            throw failure(context, repliesRead: repliesRead)
        }
        defer { freeReplyObject(raw) }
        return Self.decode(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// The context is unusable after an I/O or protocol error (hiredis sets `err` for good): describe it and
    /// drop it, so the next command reconnects.
    private func failure(_ context: UnsafeMutablePointer<redisContext>, repliesRead: Int) -> RedisError {
        let message = context.pointee.err == 0 ? "unknown error" : Self.errorString(context)
        dropContext()
        return .connection("\(url.host):\(url.port): \(message)", repliesRead: repliesRead)
    }

    private func dropContext() {
        if let context { redisFree(context) }
        context = nil
    }

    /// Binary-safe `redisAppendCommandArgv`: every argument is a slice of the command's one byte buffer.
    private static func append(_ command: RedisCommand, to context: UnsafeMutablePointer<redisContext>) -> Int32 {
        command.bytes.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!)
            var pointers: [UnsafePointer<CChar>?] = []
            pointers.reserveCapacity(command.lengths.count)
            var offset = 0
            for length in command.lengths {
                pointers.append((base + offset).assumingMemoryBound(to: CChar.self))
                offset += length
            }
            return command.lengths.withUnsafeBufferPointer { lengths in
                pointers.withUnsafeMutableBufferPointer { argv in
                    redisAppendCommandArgv(context, Int32(argv.count), argv.baseAddress, lengths.baseAddress)
                }
            }
        }
    }

    private static func decode(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            return .bulk(r.str.map { Array(UnsafeRawBufferPointer(start: $0, count: r.len)) } ?? [])
        case REDIS_REPLY_STATUS:
            return .status(string(r.str, r.len))
        case REDIS_REPLY_ERROR:
            return .error(string(r.str, r.len))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(r.integer))
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ARRAY:
            return .array((0..<r.elements).map { decode(r.element[$0]!) })
        default:
            return .error("unsupported reply type \(r.type)")
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> String {
        guard let pointer else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    private static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private static func makeTimeval(_ duration: Duration) -> timeval {
        let (seconds, attoseconds) = duration.components
        return timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
