import Foundation
import Hummingbird
import RTMSIngest
import RelayCore
import ZoomAPI

/// The Zoom-facing webhook route and the engagement routes. All logic lives in `WebhookReceiver` and
/// `EngagementRegistry`; these only move bytes in and out.
struct IngestRoutes {
    let webhooks: WebhookReceiver
    /// Its registry (caught up with the shared log in cluster mode) answers the engagement routes.
    let publisher: IngestPublisher
    let maxBodyBytes: Int

    /// `POST /api/webhooks/zoom`: the raw body (the body-limit middleware has already refused anything over
    /// `max_body_bytes`) and the two `x-zm-*` headers go to the receiver, whose answer is returned at once;
    /// processing happens after the answer, in `IngestService`. Open to Zoom: the signature is the check.
    func addWebhookRoute(to router: Router<RelayRequestContext>) {
        router.post("/api/webhooks/zoom") { request, _ -> Response in
            let body = try await request.body.collect(upTo: maxBodyBytes)
            let answer = webhooks.handle(
                signature: request.headers[.init("x-zm-signature")!],
                timestamp: request.headers[.init("x-zm-request-timestamp")!],
                body: body.readableBytesView,
                now: EventClock.nowMillis() / 1000
            )
            return Response(
                status: HTTPResponse.Status(code: answer.status),
                headers: [.contentType: "application/json; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body))
            )
        }
    }

    /// `GET /api/engagements` (`{"engagements":[…]}`, newest first, with each stream's state) and
    /// `GET /api/engagement/active` (the original app's `{"isActive","engagementId","startedAt"}`), behind
    /// the browser-API access control. Both hold only what the caller may see.
    func addEngagementRoutes(to group: RouterGroup<RelayRequestContext>, access: EngagementAccess) {
        group.get("/api/engagements") { _, context -> Response in
            let caller = try context.requireCaller()
            let registry = await publisher.currentRegistry()
            return try Response.json(EngagementList(engagements: await registry.snapshot(visible: { access.canSee(caller, $0) })))
        }
        group.get("/api/engagement/active") { _, context -> Response in
            let caller = try context.requireCaller()
            return try Response.json(await publisher.currentRegistry().active(visible: { access.canSee(caller, $0) }))
        }
    }
}

/// `GET /api/engagements` body.
private struct EngagementList: Encodable {
    var engagements: [EngagementSnapshot]
}
