import Foundation
import Hummingbird
import RTMSIngest
import ZoomAPI

/// Adds the Zoom-facing and engagement routes to `router`; all logic lives in `WebhookReceiver` and
/// `EngagementRegistry`, this only moves bytes in and out.
///
/// - `POST /api/webhooks/zoom`: raw body (at most `maxBodyBytes`, else 413) and the two `x-zm-*` headers go to the
///   receiver, whose answer is returned as is (processing happens after the answer, in `IngestService`).
/// - `GET /api/engagements`: `{"engagements":[…]}`, newest first, with each stream's state.
/// - `GET /api/engagement/active`: the original app's `{"isActive","engagementId","startedAt"}`.
///
/// Put the engagement routes behind the browser-API authentication (SPEC §5.4); the webhook route must stay open.
public func addIngestRoutes<Context: RequestContext>(to router: Router<Context>, webhooks: WebhookReceiver,
                                                     registry: EngagementRegistry, maxBodyBytes: Int) {
    router.post("/api/webhooks/zoom") { request, context -> Response in
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch {
            return jsonResponse(413, #"{"error":"request body larger than \#(maxBodyBytes) bytes"}"#)
        }
        var signature: String?, timestamp: String?
        for field in request.headers {
            switch field.name.canonicalName {
            case "x-zm-signature": signature = field.value
            case "x-zm-request-timestamp": timestamp = field.value
            default: break
            }
        }
        let answer = webhooks.handle(signature: signature, timestamp: timestamp, body: body.readableBytesView,
                                     now: Int64(Date().timeIntervalSince1970))
        return jsonResponse(answer.status, answer.body)
    }
    router.get("/api/engagements") { _, _ -> Response in
        try encode(EngagementList(engagements: await registry.snapshot()))
    }
    router.get("/api/engagement/active") { _, _ -> Response in
        try encode(await registry.active())
    }
}

/// `GET /api/engagements` body.
private struct EngagementList: Encodable {
    var engagements: [EngagementSnapshot]
}

private func jsonResponse(_ status: Int, _ body: String) -> Response {
    Response(status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json; charset=utf-8"],
             body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
}

private func encode(_ value: some Encodable) throws -> Response {
    let data = try JSONEncoder().encode(value)
    return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}
