/// The HTTP answer to a webhook delivery, framework-agnostic so the HTTP layer only copies it out.
public struct WebhookResponse: Sendable, Equatable {
    /// 200, 400, 401 or 413.
    public var status: Int
    /// A JSON object: `{"received":true}`, the url_validation tokens, or `{"error": …}`.
    public var body: String

    public init(status: Int, body: String) {
        self.status = status
        self.body = body
    }

    static func error(_ status: Int, _ message: String) -> WebhookResponse {
        WebhookResponse(status: status, body: JSONText.object(["error": message]))
    }
}

/// Tiny JSON writer for flat string objects, so error bodies never need an encoder that can throw.
enum JSONText {
    static func object(_ members: KeyValuePairs<String, String>) -> String {
        "{" + members.map { "\(quote($0.key)):\(quote($0.value))" }.joined(separator: ",") + "}"
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
