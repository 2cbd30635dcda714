import Foundation
import RelayTesting
import Testing

/// The agent page is built into the binary: `serve` started anywhere serves it, and `server.web_root` swaps in a
/// folder for working on the page.
@Suite("the agent page through the real binary", .serialized, .timeLimit(.minutes(2)))
struct WebPageTests {
    /// `Sources/RelayServer/Web`, the folder the binary's copy is built from.
    static let webFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/RelayServer/Web")

    /// Runs `serve` in an empty temporary folder, with its config (`server:` lines `server`) kept elsewhere.
    func serve(server: String = "") async throws -> (RelayProcess, Int, URL) {
        let configFolder = try RelayProcess.makeTemporaryDirectory()
        let empty = try RelayProcess.makeTemporaryDirectory()
        let port = try freeLoopbackPort()
        let config = configFolder.appendingPathComponent("config.yaml")
        try "server:\n  host: 127.0.0.1\n  port: \(port)\n\(server)token_store: {path: \(configFolder.path)/relay.sqlite}\nsinks: {}\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let relay = try RelayProcess(["serve", "--config", config.path], directory: empty)
        try await waitUntil(timeout: .seconds(30), "the relay to listen (log: \(relay.stderr.suffix(600)))") { relay.stderr.contains("listening on") }
        return (relay, port, empty)
    }

    func get(_ path: String, port: Int) throws -> (status: Int?, head: String, body: String) {
        let reply = try RawHTTPConnection.exchange(port: port, "GET \(path) HTTP/1.1\r\nHost: localhost\r\n")
        let parts = reply.text.components(separatedBy: "\r\n\r\n")
        return (reply.status, parts.first ?? "", parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    @Test("serve started in an empty folder serves the pages (/ and /recordings) and every file of Sources/RelayServer/Web, byte for byte")
    func builtInPage() async throws {
        let (relay, port, folder) = try await serve()
        defer { relay.signal(SIGKILL) }
        // Only the test harness's own output files are there: no web/ folder, and serve wrote nothing.
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)) == ["stdout.log", "stderr.log"])
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.webFolder.path).sorted()
        #expect(Set(["index.html", "app.js", "app.css", "recordings.html", "recordings.js", "recordings.css"]).isSubset(of: files), "\(files)")
        for name in files {
            let expected = try String(contentsOf: Self.webFolder.appendingPathComponent(name), encoding: .utf8)
            // The pages are served at their routes (`/`, `/recordings`), every other file under its name.
            let reply = try get(["index.html": "/", "recordings.html": "/recordings"][name] ?? "/" + name, port: port)
            #expect(reply.status == 200, "\(name): \(reply.head)")
            #expect(reply.body == expected, "\(name) differs from the built-in copy (a file added to Web/ must be listed in WebAssets.builtInFiles)")
            let type = ["html": "text/html", "js": "text/javascript", "css": "text/css"][(name as NSString).pathExtension] ?? "?"
            #expect(reply.head.lowercased().contains("content-type: \(type)"), "\(name): \(reply.head)")
        }
        #expect(try get("/missing.js", port: port).status == 404)
    }

    @Test("server.web_root serves a folder instead, read on every request; a folder without index.html is refused at start")
    func webRoot() async throws {
        let page = try RelayProcess.makeTemporaryDirectory()
        try "<html><head></head><body>first</body></html>".write(to: page.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
        try "console.log(1)".write(to: page.appendingPathComponent("extra.js"), atomically: true, encoding: .utf8)
        let (relay, port, _) = try await serve(server: "  web_root: \(page.path)\n")
        defer { relay.signal(SIGKILL) }
        #expect(try get("/", port: port).body.contains("first"))
        try "<html><head></head><body>second</body></html>".write(to: page.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
        #expect(try get("/", port: port).body.contains("second"))
        #expect(try get("/extra.js", port: port).body == "console.log(1)")
        #expect(try get("/app.js", port: port).status == 404, "the built-in files are not mixed into web_root")

        let configFolder = try RelayProcess.makeTemporaryDirectory()
        try "server: {host: 127.0.0.1, port: 0, web_root: \(configFolder.path)/nowhere}\nsinks: {}\n"
            .write(to: configFolder.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        let (status, _, stderr) = try await RelayProcess.run(["serve", "--config", "config.yaml"], directory: configFolder, timeout: .seconds(30))
        #expect(status != 0)
        #expect(stderr.contains("server.web_root: \(configFolder.path)/nowhere has no index.html"), "\(stderr)")
    }
}
