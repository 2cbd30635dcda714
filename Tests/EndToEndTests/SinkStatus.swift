import Foundation
import RelayTesting

/// One sink's entry in a running relay's `/health`, as far as the end-to-end tests read it.
struct SinkStatus: Decodable {
    var degradedReason: String?
    var spilled: Int?
    var delivered: UInt64
    var counts: [String: UInt64]?
    enum CodingKeys: String, CodingKey {
        case spilled, delivered, counts
        case degradedReason = "degraded_reason"
    }

    private struct Health: Decodable {
        var sinks: [String: SinkStatus]
    }

    /// Sink `sink` of the relay on `port`; nil while it does not answer. A connection of its own per request (not
    /// URLSession's pool, which can hand out a connection to an earlier relay that had the same port). The wait is
    /// long: a debug build that has fallen behind 50 calls on a busy machine was measured answering after 22 s, as
    /// `/health` still waits behind the tasks ingest keeps busy.
    static func read(port: Int, sink: String) async -> SinkStatus? {
        guard let (_, text) = try? RawHTTPConnection.exchange(port: port, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n", timeout: .seconds(60)),
              let body = text.range(of: "\r\n\r\n").map({ text[$0.upperBound...] }) else { return nil }
        return (try? JSONDecoder().decode(Health.self, from: Data(body.utf8)))?.sinks[sink]
    }
}
