import Foundation
import Hummingbird

extension Response {
    /// A JSON response with `value` encoded in the relay's JSON style (snake_case keys come from the types'
    /// own coding keys; output sorted so it is stable).
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    /// `{"error": message}` with `status` — the one error shape of the HTTP API (README.md, "HTTP").
    static func jsonError(_ message: String, status: HTTPResponse.Status) -> Response {
        (try? json(["error": message], status: status)) ?? Response(status: status)
    }
}
