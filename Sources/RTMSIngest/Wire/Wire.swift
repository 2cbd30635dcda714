import Foundation

/// JSON encoding of the few control messages the relay sends (sorted keys, like the official SDK's output).
enum Wire {
    static func encode(_ message: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // The messages are fixed structs of strings, numbers and bools: encoding cannot fail.
        return (try? String(decoding: encoder.encode(message), as: UTF8.self)) ?? "{}"
    }
}
