/// One Redis command with binary-safe arguments, stored as one byte buffer plus each argument's length, so
/// building a command costs one allocation however many arguments it has.
public struct RedisCommand: Sendable, Hashable {
    /// Every argument's bytes, back to back.
    public private(set) var bytes: [UInt8] = []
    /// The length of each argument in `bytes`.
    public private(set) var lengths: [Int] = []

    /// `RedisCommand("SET", ["key", "value"])`.
    public init(_ name: String, _ arguments: [String] = []) {
        append(name)
        for argument in arguments { append(argument) }
    }

    /// Reserves room for `byteCount` bytes of arguments.
    public mutating func reserveCapacity(_ byteCount: Int) {
        bytes.reserveCapacity(byteCount)
    }

    /// Appends a text argument (UTF-8).
    public mutating func append(_ argument: String) {
        var argument = argument
        argument.withUTF8 { append(bytes: $0) }
    }

    /// Appends a binary argument.
    public mutating func append(bytes argument: some Collection<UInt8>) {
        bytes.append(contentsOf: argument)
        lengths.append(argument.count)
    }

    /// The command's arguments (the name first) as separate byte arrays, for tests and logs.
    public var arguments: [[UInt8]] {
        var offset = 0
        return lengths.map { length in
            defer { offset += length }
            return Array(bytes[offset..<offset + length])
        }
    }
}
