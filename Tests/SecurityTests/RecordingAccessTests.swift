import BuiltInSinks
import Foundation
import RelayCore
import RelayTesting
import Testing
import ZoomSimulator

/// The recordings API (`/api/recordings…`), tried as each role would and as an attacker would: a real relay with
/// real SQLite and WAV sinks, real HTTP, the simulator as Zoom. Agents find and play only their own calls, QA
/// reviewers and supervisors their account's, the operator everything; another's call is a 404, never a 403.
@Suite("Recordings: who may find, play and download which call")
struct RecordingAccessTests {
    static let operatorToken = AccessModelTests.operatorToken

    static func run(_ body: @Sendable @escaping (RelayHarness, String) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rtms-recordings-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let sinks = """
              archive:
                type: sqlite
                path: \(folder)/archive.sqlite
              recordings:
                type: wav
                directory: \(folder)/wav
            """
        try await RelayHarness.run(sinks: BuiltInSinks.registry, sinksYAML: sinks, server: AccessModelTests.server,
                                   extraYAML: "access: {supervisors: [supervisor-1], qa: [qa-1]}") { harness in
            #expect(try await SecurityClient(harness, authorization: "Bearer \(operatorToken)").connectZoom() == "/?auth=success")
            try await body(harness, folder)
        }
    }

    /// Engagement ids of a `GET /api/recordings` answer.
    static func calls(_ client: SecurityClient, _ query: String = "") async throws -> [String] {
        let reply = try await client.send("/api/recordings" + query)
        try #require(reply.status == 200, "\(reply.body)")
        let json = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any]
        return (json?["calls"] as? [[String: Any]] ?? []).compactMap { $0["engagement_id"] as? String }
    }

    /// A recorded call of `agent`: a stream with a few seconds of audio, stopped so its files are complete.
    static func recordedCall(_ harness: RelayHarness, agent: String) async throws -> String {
        let id = await harness.simulator.createEngagement(agent: agent)
        let stream = try await harness.simulator.startStream(engagementID: id)
        try await harness.waitForAudio(stream: stream.streamID, perChannel: 50)
        try await harness.simulator.stopStream(engagementID: id)
        try await harness.waitFor(.streamStopped, stream: stream.streamID)
        return id
    }

    /// Waits until the archive lists `ids` for the operator (the sink writes in the background).
    static func waitArchived(_ harness: RelayHarness, _ ids: Set<String>) async throws {
        let operatorClient = SecurityClient(harness, authorization: "Bearer \(operatorToken)")
        let deadline = ContinuousClock.now + .seconds(30)
        while Set(try await calls(operatorClient)).intersection(ids) != ids {
            guard ContinuousClock.now < deadline else { Issue.record("the archive never listed \(ids)"); return }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    @Test("recordings: an agent finds, opens and plays only their own calls; another agent's and another account's are 404")
    func agentsReachOnlyTheirOwn() async throws {
        try await Self.run { harness, _ in
            let mine = try await Self.recordedCall(harness, agent: "agent-A")
            let theirs = try await Self.recordedCall(harness, agent: "agent-B")
            try await AccessModelTests.foreignEngagement(harness, id: "foreign-1", agent: "agent-A")
            try await Self.waitArchived(harness, [mine, theirs, "foreign-1"])

            let agentA = try await SecurityClient.agent(harness, uid: "agent-A", account: "simAccount01")
            let agentB = try await SecurityClient.agent(harness, uid: "agent-B", account: "simAccount01")
            #expect(try await Self.calls(agentA) == [mine])
            #expect(try await Self.calls(agentB) == [theirs])
            // Probing by id, by search or by audio URL finds nothing of someone else's.
            #expect(try await Self.calls(agentB, "?engagement=\(mine)") == [])
            #expect(try await agentB.send("/api/recordings/\(mine)").status == 404)
            let stolen = try await agentB.send("/api/recordings/\(mine)/audio?channel=mixed")
            #expect(stolen.status == 404, "\(stolen.body)")
            #expect(!stolen.headers.contains(name: "Content-Range"))
            #expect(try await agentA.send("/api/recordings/foreign-1").status == 404, "the same user id in another account")

            // Their own call opens, with both parties' audio linked.
            let detail = try await agentA.send("/api/recordings/\(mine)")
            #expect(detail.status == 200)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(detail.body.utf8)) as? [String: Any])
            let segments = try #require(json["segments"] as? [[String: Any]])
            #expect(segments.count == 1)
            let channels = try #require(segments.first?["channels"] as? [[String: Any]])
            let links = channels.compactMap { ($0["audio"] as? [String: Any])?["url"] as? String }
            #expect(links.count == 2, "\(detail.body)")
            #expect(Set(channels.compactMap { $0["role"] as? String }) == ["agent", "customer"])
        }
    }

    @Test("recordings: QA reviewers and supervisors see every call of their account, the operator every account's")
    func reviewersSeeTheirAccount() async throws {
        try await Self.run { harness, _ in
            let a = try await Self.recordedCall(harness, agent: "agent-A")
            let b = try await Self.recordedCall(harness, agent: "agent-B")
            try await AccessModelTests.foreignEngagement(harness, id: "foreign-1", agent: "qa-1")
            try await Self.waitArchived(harness, [a, b, "foreign-1"])
            let qa = try await SecurityClient.agent(harness, uid: "qa-1", account: "simAccount01")
            #expect(Set(try await Self.calls(qa)) == [a, b])
            #expect(try await qa.send("/api/recordings/foreign-1").status == 404)
            let foreignQA = try await SecurityClient.agent(harness, uid: "qa-1", account: "otherAccount")
            #expect(try await Self.calls(foreignQA) == ["foreign-1"])
            #expect(try await foreignQA.send("/api/recordings/\(a)/audio?channel=mixed").status == 404)
            let supervisor = try await SecurityClient.agent(harness, uid: "supervisor-1", account: "simAccount01")
            #expect(Set(try await Self.calls(supervisor)) == [a, b])
            let operatorClient = SecurityClient(harness, authorization: "Bearer \(Self.operatorToken)")
            #expect(Set(try await Self.calls(operatorClient)) == [a, b, "foreign-1"])
            // Nobody: a 401, not an empty list.
            #expect(try await SecurityClient(harness).send("/api/recordings").status == 401)
        }
    }

    @Test("recordings: audio is served with Range (206, Content-Range, 416 past the end) and a download name; a URL token only works for audio")
    func audioRanges() async throws {
        try await Self.run { harness, folder in
            let call = try await Self.recordedCall(harness, agent: "agent-A")
            try await Self.waitArchived(harness, [call])
            let agent = try await SecurityClient.agent(harness, uid: "agent-A", account: "simAccount01")
            let detail = try await agent.send("/api/recordings/\(call)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(detail.body.utf8)) as? [String: Any])
            let channel = try #require((json["segments"] as? [[String: Any]])?.first?["channels"] as? [[String: Any]]).first
            let audio = try #require(channel?["audio"] as? [String: Any])
            let url = try #require(audio["url"] as? String)
            let download = try #require(audio["download"] as? String)

            // The file on disk, for comparison.
            let files = FileManager.default.enumerator(atPath: folder + "/wav")?.compactMap { $0 as? String }.filter { $0.hasSuffix("/\(channel?["channel"] as? String ?? "?").wav") } ?? []
            let path = try #require(files.first.map { folder + "/wav/" + $0 })
            let bytes = try #require(FileManager.default.contents(atPath: path))

            let whole = try await agent.send(url)
            #expect(whole.status == 200)
            #expect(whole.headers.first(name: "Accept-Ranges") == "bytes")
            #expect(whole.headers.first(name: "Content-Length") == "\(bytes.count)")
            #expect(whole.headers.first(name: "Content-Type") == "audio/wav")
            #expect(whole.bytes == Array(bytes))

            let head = try await agent.send(url, headers: ["Range": "bytes=0-43"])
            #expect(head.status == 206)
            #expect(head.headers.first(name: "Content-Range") == "bytes 0-43/\(bytes.count)")
            #expect(head.bytes == Array(bytes.prefix(44)) && head.body.hasPrefix("RIFF"))
            let tail = try await agent.send(url, headers: ["Range": "bytes=-100"])
            #expect(tail.status == 206)
            #expect(tail.headers.first(name: "Content-Range") == "bytes \(bytes.count - 100)-\(bytes.count - 1)/\(bytes.count)")
            #expect(tail.bytes == Array(bytes.suffix(100)))
            let past = try await agent.send(url, headers: ["Range": "bytes=\(bytes.count)-"])
            #expect(past.status == 416)
            #expect(past.headers.first(name: "Content-Range") == "bytes */\(bytes.count)")

            let saved = try await agent.send(download, headers: ["Range": "bytes=0-0"])
            #expect(saved.status == 206)
            let disposition = saved.headers.first(name: "Content-Disposition") ?? ""
            #expect(disposition.hasPrefix("attachment; filename=\"\(call)-") && disposition.hasSuffix(".wav\""), "\(disposition)")

            // An <audio> element cannot send headers: the session may ride in the URL, for audio only.
            let token = try #require(agent.authorization?.replacingOccurrences(of: "Bearer ", with: ""))
            let anonymous = SecurityClient(harness)
            #expect(try await anonymous.send(url + "&access_token=\(token)", headers: ["Range": "bytes=0-3"]).status == 206)
            #expect(try await anonymous.send(url).status == 401)
            #expect(try await anonymous.send("/api/recordings?access_token=\(token)").status == 401)
            #expect(try await anonymous.send("/api/recordings/\(call)?access_token=\(token)").status == 401)
        }
    }

    @Test("recordings: bad search parameters get a 400 that names the parameter")
    func badParameters() async throws {
        try await Self.run { harness, _ in
            let operatorClient = SecurityClient(harness, authorization: "Bearer \(Self.operatorToken)")
            for (query, word) in [("?limit=0", "limit"), ("?limit=abc", "limit"), ("?from=yesterday", "from"), ("?cursor=zzz", "cursor"),
                                  ("?q=" + String(repeating: "x", count: 201), "q")] {
                let reply = try await operatorClient.send("/api/recordings" + query)
                #expect(reply.status == 400, "\(query): \(reply.body)")
                #expect(reply.body.contains(word), "\(reply.body)")
            }
        }
    }
}
