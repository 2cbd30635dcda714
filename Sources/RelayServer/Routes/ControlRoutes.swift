import Foundation
import Hummingbird
import Logging
import RelayCore
import ZoomAPI

/// `POST /api/zoom/rtms/control {"engagementId", "action"}` → Zoom's REST API (docs/zoom-rtms.md, "REST: RTMS control"). Zoom's errors
/// come back as readable messages with a fitting status; accepted actions become `stream.requested` events.
struct ControlRoutes {
    let zoom: ZoomConnection?
    let hub: EventHub
    let access: EngagementAccess
    let logger: Logger

    struct Body: Decodable {
        var engagementId: String
        var action: String
    }

    struct Accepted: Encodable {
        var ok = true
        var engagementId: String
        var action: String
    }

    func add(to group: RouterGroup<RelayRequestContext>) {
        group.post("/api/zoom/rtms/control") { request, context -> Response in
            guard let zoom else { throw AuthRoutes.notConfigured }
            var request = request
            let data = Data(try await request.collectBody(upTo: .max).readableBytesView)
            guard let body = try? JSONDecoder().decode(Body.self, from: data) else {
                throw HTTPError(.badRequest, message: #"expected JSON {"engagementId": "…", "action": "start|stop|pause|resume"}"#)
            }
            guard !body.engagementId.isEmpty, body.engagementId.count <= 256 else {
                throw HTTPError(.badRequest, message: "engagementId must be a non-empty id")
            }
            guard let action = StreamAction(rawValue: body.action) else {
                throw HTTPError(.badRequest, message: "unknown action '\(body.action)' (use start, stop, pause or resume)")
            }
            let caller = try context.requireCaller()
            try await access.check(caller, engagement: body.engagementId, need: .control)
            // Zoom is called with the token of the engagement's own account, never another one.
            guard let account = access.bindings.binding(of: body.engagementId)?.account ?? caller.account else {
                throw HTTPError(.notFound, message: "no engagement '\(body.engagementId)' with a known Zoom account: no engagement webhook has named it yet")
            }
            do {
                try await zoom.rest.setRTMSStatus(engagementID: body.engagementId, action: action, account: account)
            } catch let error as ZoomAPIError {
                logger.warning("RTMS control refused", metadata: ["engagement": "\(body.engagementId)", "action": "\(action)", "error": "\(error)"])
                throw HTTPError(.init(code: error.httpStatus), message: error.description)
            }
            await hub.publish(.streamRequested(action: action, by: caller.label), engagementID: body.engagementId)
            return try Response.json(Accepted(engagementId: body.engagementId, action: action.rawValue))
        }
    }
}
