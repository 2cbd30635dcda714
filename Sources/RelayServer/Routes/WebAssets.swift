import Foundation
import RelayCore

/// The agent page's files: the copy compiled into the binary from `Sources/RelayServer/Web` (SwiftPM
/// `embedInCode`), so `serve` started in any folder serves the page, or a folder (`server.web_root`,
/// `demo --web-root`) read on every request, for working on the page without rebuilding.
enum WebAssets: Sendable {
    case builtIn
    case folder(String)

    /// Every file of `Sources/RelayServer/Web`, by name (a file added there must be added here too; a test
    /// compares this table with the folder).
    static let builtInFiles: [String: [UInt8]] = [
        "index.html": PackageResources.index_html,
        "recordings.html": PackageResources.recordings_html,
        "recordings.js": PackageResources.recordings_js,
        "recordings.css": PackageResources.recordings_css,
        "app.js": PackageResources.app_js,
        "app.css": PackageResources.app_css,
    ]

    /// `server.web_root`, checked: a folder without `index.html` is a configuration mistake, not a 404 later.
    init(configuration: RelayConfiguration) throws {
        let webRoot = configuration.server.webRoot
        guard !webRoot.isEmpty else { self = .builtIn; return }
        guard FileManager.default.fileExists(atPath: (webRoot as NSString).appendingPathComponent("index.html")) else {
            throw configuration.error(at: "server.web_root", "\(webRoot) has no index.html")
        }
        self = .folder(webRoot)
    }

    /// The pages, by route: each gets the caller's session put into it (`PageRoutes`).
    static let pages = ["/": "index.html", "/recordings": "recordings.html"]

    /// A page, or nil when the folder lost it since start-up.
    func page(_ name: String) -> String? {
        switch self {
        case .builtIn: Self.builtInFiles[name].map { String(decoding: $0, as: UTF8.self) }
        case .folder(let root): try? String(contentsOfFile: (root as NSString).appendingPathComponent(name), encoding: .utf8)
        }
    }

    /// The `Content-Type` of a built-in file.
    static func contentType(of name: String) -> String {
        switch (name as NSString).pathExtension {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        default: "application/octet-stream"
        }
    }

}
