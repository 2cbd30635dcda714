/// A credential from the config. It prints as `[redacted]` in every description, dump and log, so a
/// secret can only leave the process through code that asks for `value` on purpose.
public struct Secret: Sendable, Hashable, Codable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret itself. Read it only where it is used (HMAC keys, Basic auth), never to print.
    public let value: String

    public init(_ value: String) {
        self.value = value
    }

    public init(from decoder: any Decoder) throws {
        value = try decoder.singleValueContainer().decode(String.self)
    }

    /// Encodes as its description (`[redacted]`, `(not set)`): a secret never leaves through an encoder.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public var isEmpty: Bool { value.isEmpty }
    public var description: String { value.isEmpty ? "(not set)" : "[redacted]" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["value": description]) }
}
