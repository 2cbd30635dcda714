import Foundation
import Hummingbird
import Logging
import ZoomAPI

/// `GET /` — the agent page and the Zoom Home URL. When Zoom opens it inside the client, the
/// `x-zoom-app-context` header is decrypted and the page receives a short-lived session token in
/// `<meta name="rtms-relay-session">` (or the reason it could not, in `<meta name="rtms-relay-auth-error">`).
/// Other files of `web/` are served as they are.
struct PageRoutes {
    let webRoot: String
    let clientSecret: String?
    let signer: SessionToken.Signer?
    let logger: Logger

    func add(to router: Router<RelayRequestContext>) {
        router.get("/") { request, _ -> Response in
            let path = (webRoot as NSString).appendingPathComponent("index.html")
            guard var html = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw HTTPError(.notFound, message: "the agent page is not installed (\(path) is missing)")
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
        router.middlewares.add(FileMiddleware(webRoot, searchForIndexHtml: false))
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
