import RelayCore

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

