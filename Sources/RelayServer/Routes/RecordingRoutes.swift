import Foundation
import Hummingbird
import HTTPTypes
import RelayCore

/// The recordings API behind `/recordings` (docs/recordings.md):
/// - `GET /api/recordings?from=&to=&agent=&caller=&engagement=&q=&limit=&cursor=`: calls, newest first, paged;
/// - `GET /api/recordings/{engagement}`: one call's segments, markers, transcript and audio links;
/// - `GET /api/recordings/{engagement}/audio?stream=&channel=mixed|<channel>[&download=1]`: a WAV file, with
///   `Range` support so the browser's player can seek.
///
/// The archive (a `type: sqlite` sink) says who and when; the WAV sinks' folders hold the audio. Every call a
/// caller names is checked against the calls `EngagementAccess.recordings(for:)` lets them see, in the archive's
/// own query, so another account's call is a 404 exactly like a call that does not exist.
struct RecordingRoutes {
    let archive: (any CallArchive)?
    let audio: [any AudioFiles]
    let access: EngagementAccess

    static let path = "/api/recordings"

    /// Whether `path` is a recording's audio, where `?access_token=` is accepted (an `<audio>` element sends no
    /// headers).
    static func isAudioPath(_ path: String) -> Bool {
        path.hasPrefix(Self.path + "/") && path.hasSuffix("/audio") && path.split(separator: "/").count == 4
    }

    func add(to group: RouterGroup<RelayRequestContext>) {
        group.get(RouterPath(Self.path)) { request, context -> Response in
            let (archive, scope) = try resolve(context)
            let query = try Self.query(request.uri.queryParameters, scope: scope)
            let page = try await archive.calls(query)
            return try Response.json(CallList(calls: page.calls.map(CallJSON.init), nextCursor: page.nextCursor?.token))
        }
        group.get(RouterPath(Self.path + "/:engagement")) { _, context -> Response in
            let (archive, scope) = try resolve(context)
            let id = try Self.engagement(context)
            guard let call = try await archive.call(id, scope: scope) else { throw Self.notFound(id) }
            return try Response.json(CallDetailJSON(call, audio: audio.flatMap { $0.recordings(of: id) }))
        }
        group.get(RouterPath(Self.path + "/:engagement/audio")) { request, context -> Response in
            let (archive, scope) = try resolve(context)
            let id = try Self.engagement(context)
            guard try await archive.summary(of: id, scope: scope) != nil else { throw Self.notFound(id) }
            let parameters = request.uri.queryParameters
            let stream = parameters["stream"].map(String.init)
            let channel = parameters["channel"].map(String.init) ?? "mixed"
            let recordings = audio.flatMap { $0.recordings(of: id) }.filter { stream == nil || $0.streamID == stream }
            // The latest folder wins when a stream was recorded twice (a restart moves the earlier one aside).
            guard let file = recordings.reversed().lazy.compactMap({ channel == "mixed" ? $0.mixed : $0.channels.first { $0.channel == channel } }).first else {
                throw HTTPError(.notFound, message: "no audio for channel '\(channel)'\(stream.map { " of stream '\($0)'" } ?? "") in this call")
            }
            let name = Self.downloadName(engagement: id, stream: stream, channel: channel)
            return try await Self.serve(file.path, range: request.headers[.range], download: parameters["download"] == "1", name: name, context: context)
        }
    }

    private func resolve(_ context: RelayRequestContext) throws -> (any CallArchive, CallScope) {
        let caller = try context.requireCaller()
        guard let archive else {
            throw HTTPError(.notFound, message: "recordings need an archive: configure a sink of type sqlite (and one of type wav for the audio)")
        }
        // A session without an account can see no recording; an empty scope that matches nothing says so.
        return (archive, access.recordings(for: caller) ?? .account(""))
    }

    /// The engagement id of the path, percent-decoded (the router hands path segments over as they came).
    static func engagement(_ context: RelayRequestContext) throws -> String {
        let raw = try context.parameters.require("engagement")
        return raw.removingPercentEncoding ?? raw
    }

    /// `text` safe in a path segment or a query value.
    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }

    static func notFound(_ id: String) -> HTTPError {
        HTTPError(.notFound, message: "no recording of engagement '\(id)' that you may see")
    }

    /// The search's query parameters, checked: times are ISO-8601 dates or date-times, or milliseconds since the
    /// epoch; `limit` 1–100.
    static func query(_ parameters: Hummingbird.Parameters, scope: CallScope) throws -> CallQuery {
        func text(_ key: String) throws -> String? {
            guard let value = parameters[Substring(key)].map(String.init), !value.isEmpty else { return nil }
            guard value.utf8.count <= 200 else { throw HTTPError(.badRequest, message: "\(key): at most 200 characters") }
            return value
        }
        var query = CallQuery(scope: scope)
        query.from = try time(text("from"), key: "from")
        query.to = try time(text("to"), key: "to", endOfDay: true)
        query.agent = try text("agent")
        query.caller = try text("caller")
        query.engagement = try text("engagement")
        query.text = try text("q")
        if let limit = try text("limit") {
            guard let value = Int(limit), (1...CallQuery.maxLimit).contains(value) else {
                throw HTTPError(.badRequest, message: "limit: a number from 1 to \(CallQuery.maxLimit), not '\(limit)'")
            }
            query.limit = value
        }
        if let cursor = try text("cursor") {
            guard let parsed = CallCursor(token: cursor) else { throw HTTPError(.badRequest, message: "cursor: not one this API handed out") }
            query.cursor = parsed
        }
        return query
    }

    /// `2026-12-04` (a day: `to` then means the end of it), `2026-12-04T10:00:00Z`, or epoch milliseconds.
    static func time(_ value: String?, key: String, endOfDay: Bool = false) throws -> Int64? {
        guard let value else { return nil }
        if let millis = Int64(value), (0...253_402_300_799_999).contains(millis) { return millis }
        let dayFormat = Date.ISO8601FormatStyle().year().month().day()
        if let day = try? Date(value, strategy: dayFormat) {
            let millis = Int64(day.timeIntervalSince1970 * 1000)
            return endOfDay ? millis + 86_400_000 : millis
        }
        if let date = try? Date(value, strategy: .iso8601) { return Int64(date.timeIntervalSince1970 * 1000) }
        throw HTTPError(.badRequest, message: "\(key): a date (2026-12-04), a date-time (2026-12-04T10:00:00Z) or epoch milliseconds, not '\(value)'")
    }

    /// `<engagement>-<stream>-<channel>.wav`, reduced to characters every browser keeps in a file name.
    static func downloadName(engagement: String, stream: String?, channel: String) -> String {
        let parts = [engagement, stream.map { String($0.prefix(12)) }, channel].compactMap { $0 }
        let name = parts.joined(separator: "-").map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }
        return String(name.prefix(120)) + ".wav"
    }

    /// The file, whole (`200`) or the one byte range asked for (`206`, `416` when it lies past the end).
    static func serve(_ path: String, range: String?, download: Bool, name: String, context: RelayRequestContext) async throws -> Response {
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber else {
            throw HTTPError(.notFound, message: "the audio file of this recording is gone")
        }
        var headers: HTTPFields = [
            .contentType: "audio/wav", .acceptRanges: "bytes", .cacheControl: "private, no-store",
            .contentDisposition: "\(download ? "attachment" : "inline"); filename=\"\(name)\"",
        ]
        let length = size.intValue
        switch ByteRange.parse(range, length: length) {
        case .whole:
            headers[.contentLength] = "\(length)"
            guard length > 0 else { return Response(status: .ok, headers: headers) }
            return Response(status: .ok, headers: headers, body: try await FileIO().loadFile(path: path, range: 0...(length - 1), context: context))
        case .part(let bytes):
            headers[.contentRange] = "bytes \(bytes.lowerBound)-\(bytes.upperBound)/\(length)"
            headers[.contentLength] = "\(bytes.count)"
            return Response(status: .partialContent, headers: headers, body: try await FileIO().loadFile(path: path, range: bytes, context: context))
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(length)"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        }
    }
}

/// A `Range: bytes=…` header (RFC 9110 §14.2), for one range: `a-b`, `a-` or `-n`. Several ranges, other units
/// or a malformed header are served as the whole file, as the RFC allows.
enum ByteRange: Equatable {
    case whole
    case part(ClosedRange<Int>)
    case unsatisfiable

    static func parse(_ header: String?, length: Int) -> ByteRange {
        guard let header, header.hasPrefix("bytes="), !header.contains(",") else { return .whole }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        guard let dash = spec.firstIndex(of: "-") else { return .whole }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        guard first.count <= 18, last.count <= 18, first.allSatisfy(\.isASCIIDigit), last.allSatisfy(\.isASCIIDigit) else { return .whole }
        if first.isEmpty {
            guard let suffix = Int(last), suffix > 0 else { return last.isEmpty ? .whole : .unsatisfiable }
            guard length > 0 else { return .unsatisfiable }
            return .part(max(0, length - suffix)...(length - 1))
        }
        guard let start = Int(first) else { return .whole }
        guard start < length else { return .unsatisfiable }
        let end = last.isEmpty ? length - 1 : min(Int(last) ?? (length - 1), length - 1)
        guard end >= start else { return .whole }
        return .part(start...end)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension HTTPField.Name {
    static let contentDisposition = HTTPField.Name("Content-Disposition")!
}

// MARK: JSON bodies

private struct CallList: Encodable {
    var calls: [CallJSON]
    var nextCursor: String?
    enum CodingKeys: String, CodingKey { case calls, nextCursor = "next_cursor" }
}

private struct CallJSON: Encodable {
    var engagementID: String
    var accountID: String?
    var startedAt: String
    var startedMs: Int64
    var endedAt: String?
    var durationMs: Int64?
    var direction: String?
    var queue: String?
    var agents: [CallParty]
    var caller: CallParty?
    var streamCount: Int
    var matched: String?

    init(_ call: CallSummary) {
        engagementID = call.engagementID
        accountID = call.accountID
        startedAt = EventClock.iso8601(millis: call.startedMillis)
        startedMs = call.startedMillis
        endedAt = call.endedMillis.map(EventClock.iso8601(millis:))
        durationMs = call.durationMillis
        direction = call.direction
        queue = call.queue
        agents = call.agents
        caller = call.caller
        streamCount = call.streamCount
        matched = call.matchedText
    }

    enum CodingKeys: String, CodingKey {
        case engagementID = "engagement_id", accountID = "account_id", startedAt = "started_at", startedMs = "started_ms", endedAt = "ended_at"
        case durationMs = "duration_ms", direction, queue, agents, caller, streamCount = "stream_count", matched
    }
}

private struct CallDetailJSON: Encodable {
    var call: CallJSON
    var segments: [Segment]
    var markers: [Marker]
    var transcript: [Line]

    struct Segment: Encodable {
        var streamID: String
        var startedMs: Int64
        var stoppedMs: Int64?
        var state: String
        var stopReason: String?
        var sampleRate: Int?
        /// Zoom's time of the first sample of every file of the segment; transcript times minus this are
        /// positions in the files.
        var originTimestamp: Int64?
        var channels: [Channel]
        var mixed: Audio?
        enum CodingKeys: String, CodingKey {
            case streamID = "stream_id", startedMs = "started_ms", stoppedMs = "stopped_ms", state, stopReason = "stop_reason"
            case sampleRate = "sample_rate", originTimestamp = "origin_timestamp", channels, mixed
        }
    }

    struct Channel: Encodable {
        var channel: String
        var userName: String?
        /// Who the party is (`CallDetail.role`); absent when neither Zoom's participant events nor the names say.
        var role: CallRole?
        var frames: Int64
        var gaps: Int64
        var gapMs: Int64
        var firstTimestamp: Int64
        var lastTimestamp: Int64
        var audio: Audio?
        enum CodingKeys: String, CodingKey {
            case channel, userName = "user_name", role, frames, gaps, gapMs = "gap_ms", firstTimestamp = "first_timestamp"
            case lastTimestamp = "last_timestamp", audio
        }
    }

    struct Audio: Encodable {
        var url: String
        var download: String
        var durationMs: Int64
        var gaps: [Gap]
        enum CodingKeys: String, CodingKey { case url, download, durationMs = "duration_ms", gaps }
    }

    struct Gap: Encodable {
        var atMs: Int64
        var durationMs: Int64
        enum CodingKeys: String, CodingKey { case atMs = "at_ms", durationMs = "duration_ms" }
    }

    struct Marker: Encodable {
        var type: String
        var streamID: String?
        var timeMs: Int64
        var detail: String?
        enum CodingKeys: String, CodingKey { case type, streamID = "stream_id", timeMs = "time_ms", detail }
    }

    struct Line: Encodable {
        var streamID: String?
        var channel: String
        var speaker: String?
        var role: CallRole?
        var text: String
        var start: Int64?
        var end: Int64?
        var timeMs: Int64
        enum CodingKeys: String, CodingKey { case streamID = "stream_id", channel, speaker, role, text, start, end, timeMs = "time_ms" }
    }

    init(_ detail: CallDetail, audio: [StreamAudio]) {
        call = CallJSON(detail.summary)
        let id = detail.summary.engagementID
        func link(_ stream: String, _ channel: String, _ file: StreamAudio.File) -> Audio {
            let url = "\(RecordingRoutes.path)/\(RecordingRoutes.escape(id))/audio?stream=\(RecordingRoutes.escape(stream))&channel=\(RecordingRoutes.escape(channel))"
            return Audio(url: url, download: url + "&download=1", durationMs: file.durationMillis,
                         gaps: file.gaps.map { Gap(atMs: $0.atMillis, durationMs: $0.durationMillis) })
        }
        segments = detail.streams.map { segment in
            let files = audio.last { $0.streamID == segment.streamID }
            return Segment(
                streamID: segment.streamID, startedMs: segment.startedMillis, stoppedMs: segment.stoppedMillis, state: segment.state,
                stopReason: segment.stopReason, sampleRate: segment.sampleRate ?? files?.sampleRate, originTimestamp: files?.originTimestamp,
                channels: segment.channels.map { c in
                    Channel(channel: c.channel, userName: c.userName, role: detail.role(channel: c.channel, name: c.userName), frames: c.frames, gaps: c.gaps, gapMs: c.gapMillis,
                            firstTimestamp: c.firstTimestamp, lastTimestamp: c.lastTimestamp,
                            audio: files?.channels.first { $0.channel == c.channel }.map { link(segment.streamID, c.channel, $0) })
                },
                mixed: files?.mixed.map { link(segment.streamID, "mixed", $0) })
        }
        markers = detail.markers.map { Marker(type: $0.type.rawValue, streamID: $0.streamID, timeMs: $0.timeMillis, detail: $0.detail) }
        transcript = detail.transcript.map {
            Line(streamID: $0.streamID, channel: $0.channel, speaker: $0.speaker, role: detail.role(channel: $0.channel, name: $0.speaker), text: $0.text, start: $0.start, end: $0.end, timeMs: $0.timeMillis)
        }
    }

    func encode(to encoder: any Encoder) throws {
        try call.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(segments, forKey: .segments)
        try c.encode(markers, forKey: .markers)
        try c.encode(transcript, forKey: .transcript)
    }

    enum CodingKeys: String, CodingKey { case segments, markers, transcript }
}
