import Foundation
import RelayCore
import RelayTesting
import Testing
@testable import WebSink

@Suite("Web sink: invented channel ids")
struct WebSinkChannelCapTests {
    @Test("security #12: level messages list at most 8 channels of a stream, however many channel ids the media server invents")
    func levelChannelsCapped() async throws {
        let sink = try makeSink()
        let subscription = sink.broadcaster.subscribe(scope: .all, lastEventID: nil)
        try await sink.consume((0..<50).map { audio.event(engagement: "eng-1", stream: "s-1", channel: "invented-\($0)", party: $0, frame: 0) })
        try await sink.tick()
        let level = try #require(await collect(subscription, count: 1000, timeout: .milliseconds(300)).last { $0.event == "level" })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(level.data.utf8)) as? [String: Any])
        let channels = try #require(object["channels"] as? [[String: Any]])
        #expect(channels.count == ChannelAdmission.defaultLimit)
    }
}
