import Foundation
import Hummingbird
import Logging
import ZoomAPI

/// `GET /` — the agent page and the Zoom Home URL — and `GET /recordings`, the QA page. When Zoom opens it inside the client, the
/// `x-zoom-app-context` header is decrypted and the page receives a short-lived session token in
/// `<meta name="rtms-relay-session">` (or the reason it could not, in `<meta name="rtms-relay-auth-error">`).
/// The page's other files (`WebAssets`) are served as they are.
struct PageRoutes {
    let assets: WebAssets
    let clientSecret: String?
    let signer: SessionToken.Signer?
    let logger: Logger

    func add(to router: Router<RelayRequestContext>) {
        for (route, file) in WebAssets.pages {
            router.get(RouterPath(route)) { request, _ -> Response in
                try page(file, for: request)
            }
        }
        switch assets {
        case .folder(let root):
            router.middlewares.add(FileMiddleware(root, searchForIndexHtml: false))
        case .builtIn:
            for (name, bytes) in WebAssets.builtInFiles where !WebAssets.pages.values.contains(name) {
                let headers: HTTPFields = [.contentType: WebAssets.contentType(of: name), .cacheControl: "no-cache"]
                router.get(RouterPath("/" + name)) { _, _ in
                    Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
                }
            }
        }
    }

    /// A page, with the session of the Zoom user who opened it (or why there is none) in its `<head>`.
    private func page(_ file: String, for request: Request) throws -> Response {
        guard var html = assets.page(file) else {
            throw HTTPError(.notFound, message: "\(file) is missing from server.web_root")
        }
        var meta = ""
        if let header = request.headers[.init("x-zoom-app-context")!] {
            if let clientSecret, let signer {
                do {
                    let context = try AppContext.decrypt(header: header, clientSecret: clientSecret)
                    meta = #"<meta name="rtms-relay-session" content="\#(signer.issue(uid: context.uid, aid: context.aid))">"#
                } catch {
                    logger.warning("refused x-zoom-app-context", metadata: ["error": "\(error)"])
                    meta = #"<meta name="rtms-relay-auth-error" content="\#(Self.escape("\(error)"))">"#
                }
            } else {
                meta = #"<meta name="rtms-relay-auth-error" content="the relay has no Zoom client secret configured">"#
            }
        }
        if !meta.isEmpty, let head = html.range(of: "</head>") {
            html.insert(contentsOf: meta + "\n", at: head.lowerBound)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
