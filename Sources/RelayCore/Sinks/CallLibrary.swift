/// What the recordings page reads: a searchable archive of calls (the SQLite sink) and the audio files of each
/// call (the WAV sink). A sink offers one by conforming to `CallArchiveSink` or `AudioFileSink`; the relay finds
/// them by type among the sinks it built, and joins them by engagement and stream id. Neither sink knows the
/// other: the archive says who and when, the WAV sink's `stream.json` says which file holds whom.

/// A sink that keeps a searchable archive of calls.
public protocol CallArchiveSink: Sink {
    var callArchive: any CallArchive { get }
}

/// A sink that writes a call's audio to files.
public protocol AudioFileSink: Sink {
    var audioFiles: any AudioFiles { get }
}

/// Past and current calls, newest first.
public protocol CallArchive: Sendable {
    /// One page of calls that match `query` and that `query.scope` may see.
    func calls(_ query: CallQuery) async throws -> CallPage
    /// One call's summary, or nil when it is not archived or out of `scope`.
    func summary(of engagementID: String, scope: CallScope) async throws -> CallSummary?
    /// One call in full (streams, markers, transcript), or nil when it is not archived or out of `scope`.
    func call(_ engagementID: String, scope: CallScope) async throws -> CallDetail?
}

/// The recordings of one engagement's streams.
public protocol AudioFiles: Sendable {
    /// Every recorded stream of `engagementID`, oldest first (a stream recorded twice, e.g. after a restart,
    /// appears once per folder).
    func recordings(of engagementID: String) -> [StreamAudio]
}

/// Which calls a caller may see: all (the operator), those of one account (QA reviewers, supervisors), or those
/// of one account one agent is on.
public enum CallScope: Sendable, Hashable {
    case all
    case account(String)
    case agent(account: String, userID: String)
}

/// A search of the archive. Every filter is optional; text filters match case-insensitively anywhere.
public struct CallQuery: Sendable, Hashable {
    /// Calls that started at or after `from` and before `to`, milliseconds since the epoch.
    public var from: Int64?
    public var to: Int64?
    /// An agent's Zoom user id or display name.
    public var agent: String?
    /// The caller's name or phone number.
    public var caller: String?
    /// Part of an engagement id.
    public var engagement: String?
    /// Words said in the call (its transcript).
    public var text: String?
    public var limit: Int
    /// Where the previous page ended (`CallPage.nextCursor`).
    public var cursor: CallCursor?
    public var scope: CallScope

    public init(from: Int64? = nil, to: Int64? = nil, agent: String? = nil, caller: String? = nil, engagement: String? = nil,
                text: String? = nil, limit: Int = 25, cursor: CallCursor? = nil, scope: CallScope = .all) {
        self.from = from
        self.to = to
        self.agent = agent
        self.caller = caller
        self.engagement = engagement
        self.text = text
        self.limit = limit
        self.cursor = cursor
        self.scope = scope
    }

    /// Results per page: 25 unless asked, at most 100.
    public static let maxLimit = 100
}

/// A position in the newest-first order: the start time and id of the last call of a page.
public struct CallCursor: Sendable, Hashable {
    public var startedMillis: Int64
    public var engagementID: String

    public init(startedMillis: Int64, engagementID: String) {
        self.startedMillis = startedMillis
        self.engagementID = engagementID
    }

    /// The cursor as it travels in a URL: `<ms>.<engagement id, base64url>`.
    public var token: String {
        "\(startedMillis)." + Base64.encode(Array(engagementID.utf8)).replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }

    /// Reads `token`; nil for anything else.
    public init?(token: String) {
        let parts = token.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, parts[0].count <= 19, let millis = Int64(parts[0]), millis >= 0,
              let bytes = Base64.decode(parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")),
              let id = String(validating: bytes, as: UTF8.self), !id.isEmpty else { return nil }
        self.init(startedMillis: millis, engagementID: id)
    }
}

/// One page of results and where the next one starts (nil on the last page).
public struct CallPage: Sendable, Hashable {
    public var calls: [CallSummary]
    public var nextCursor: CallCursor?

    public init(calls: [CallSummary], nextCursor: CallCursor?) {
        self.calls = calls
        self.nextCursor = nextCursor
    }
}

/// A person on a call, as far as Zoom described them.
public struct CallParty: Sendable, Hashable, Codable {
    public var userID: String?
    public var name: String?
    public var phoneNumber: String?

    public init(userID: String? = nil, name: String? = nil, phoneNumber: String? = nil) {
        self.userID = userID
        self.name = name
        self.phoneNumber = phoneNumber
    }

    enum CodingKeys: String, CodingKey {
        case userID = "user_id", name, phoneNumber = "phone_number"
    }
}

/// A party's part on a call. `of` is the one rule for who is who: the recordings API answers with it, and the agent
/// page's `roleOf` (Sources/RelayServer/Web/app.js) applies the same order to the call header the relay sends it.
public enum CallRole: String, Sendable, Hashable, Codable {
    case agent, customer

    /// The `participant_mode` values of a ZCC participant event that name each role (docs/zoom-rtms.md,
    /// "ZCC voice events").
    public static let agentModes: Set<String> = ["agent"]
    public static let customerModes: Set<String> = ["caller", "consumer"]

    /// The role a participant event's `participant_mode` names, or nil for any other mode (a monitor, say).
    public init?(participantMode mode: String?) {
        guard let mode else { return nil }
        if Self.agentModes.contains(mode) {
            self = .agent
        } else if Self.customerModes.contains(mode) {
            self = .customer
        } else {
            return nil
        }
    }

    /// Who speaks on `channel` as `name`: the role Zoom gave that channel (`channelRoles`, from the participant
    /// events), else `agent` for an agent's name, else `customer` for the caller's; nil when nothing says.
    public static func of(channel: String?, name: String?, channelRoles: [String: CallRole], agents: [CallParty], caller: CallParty?) -> CallRole? {
        if let channel, let role = channelRoles[channel] { return role }
        guard let name, !name.isEmpty else { return nil }
        if agents.contains(where: { $0.name == name }) { return .agent }
        if caller?.name == name { return .customer }
        return nil
    }
}

/// One call in a result list.
public struct CallSummary: Sendable, Hashable {
    public var engagementID: String
    public var accountID: String?
    /// When the call started (Zoom's engagement start, else the first event) and ended (nil while live).
    public var startedMillis: Int64
    public var endedMillis: Int64?
    public var durationMillis: Int64?
    public var direction: String?
    public var queue: String?
    public var agents: [CallParty]
    public var caller: CallParty?
    /// RTMS streams of the call (more than one after Stop and Start, or a failover).
    public var streamCount: Int
    /// The transcript line that matched `CallQuery.text`, if that was searched.
    public var matchedText: String?

    public init(engagementID: String, accountID: String?, startedMillis: Int64, endedMillis: Int64?, durationMillis: Int64?,
                direction: String?, queue: String?, agents: [CallParty], caller: CallParty?, streamCount: Int, matchedText: String?) {
        self.engagementID = engagementID
        self.accountID = accountID
        self.startedMillis = startedMillis
        self.endedMillis = endedMillis
        self.durationMillis = durationMillis
        self.direction = direction
        self.queue = queue
        self.agents = agents
        self.caller = caller
        self.streamCount = streamCount
        self.matchedText = matchedText
    }
}

/// A call in full: its streams as segments of one timeline, what happened on it, and what was said.
public struct CallDetail: Sendable, Hashable {
    public var summary: CallSummary
    public var streams: [Segment]
    public var markers: [Marker]
    public var transcript: [Line]
    /// Channel id → the role the call's participant events gave it (`CallRole(participantMode:)`), at most
    /// `ChannelAdmission.defaultLimit` channels.
    public var channelRoles: [String: CallRole]

    public init(summary: CallSummary, streams: [Segment], markers: [Marker], transcript: [Line], channelRoles: [String: CallRole] = [:]) {
        self.summary = summary
        self.streams = streams
        self.markers = markers
        self.transcript = transcript
        self.channelRoles = channelRoles
    }

    /// The role of whoever speaks on `channel` as `name`, by `CallRole.of`.
    public func role(channel: String?, name: String?) -> CallRole? {
        CallRole.of(channel: channel, name: name, channelRoles: channelRoles, agents: summary.agents, caller: summary.caller)
    }

    /// One RTMS stream of the call.
    public struct Segment: Sendable, Hashable {
        public var streamID: String
        public var startedMillis: Int64
        public var stoppedMillis: Int64?
        public var state: String
        public var stopReason: String?
        public var sampleRate: Int?
        /// Each party's audio: frames, gaps, and the Zoom time of its first and last frame.
        public var channels: [Channel]

        public init(streamID: String, startedMillis: Int64, stoppedMillis: Int64?, state: String, stopReason: String?, sampleRate: Int?, channels: [Channel]) {
            self.streamID = streamID
            self.startedMillis = startedMillis
            self.stoppedMillis = stoppedMillis
            self.state = state
            self.stopReason = stopReason
            self.sampleRate = sampleRate
            self.channels = channels
        }
    }

    public struct Channel: Sendable, Hashable {
        public var channel: String
        public var userName: String?
        public var frames: Int64
        public var gaps: Int64
        public var gapMillis: Int64
        public var firstTimestamp: Int64
        public var lastTimestamp: Int64

        public init(channel: String, userName: String?, frames: Int64, gaps: Int64, gapMillis: Int64, firstTimestamp: Int64, lastTimestamp: Int64) {
            self.channel = channel
            self.userName = userName
            self.frames = frames
            self.gaps = gaps
            self.gapMillis = gapMillis
            self.firstTimestamp = firstTimestamp
            self.lastTimestamp = lastTimestamp
        }
    }

    /// Something that happened at a point of the call: `stream.started`, `stream.paused`, `stream.interrupted` …
    public struct Marker: Sendable, Hashable {
        public var type: EventType
        public var streamID: String?
        public var timeMillis: Int64
        public var detail: String?

        public init(type: EventType, streamID: String?, timeMillis: Int64, detail: String?) {
            self.type = type
            self.streamID = streamID
            self.timeMillis = timeMillis
            self.detail = detail
        }
    }

    /// One transcript segment; `start`/`end` are Zoom's times (ms since the epoch) when Zoom sent them.
    public struct Line: Sendable, Hashable {
        public var streamID: String?
        public var channel: String
        public var speaker: String?
        public var text: String
        public var start: Int64?
        public var end: Int64?
        public var timeMillis: Int64

        public init(streamID: String?, channel: String, speaker: String?, text: String, start: Int64?, end: Int64?, timeMillis: Int64) {
            self.streamID = streamID
            self.channel = channel
            self.speaker = speaker
            self.text = text
            self.start = start
            self.end = end
            self.timeMillis = timeMillis
        }
    }
}

/// One recorded stream's files.
public struct StreamAudio: Sendable, Hashable {
    public var streamID: String?
    /// `recording`, `stopped` or `closed` (the relay shut down first).
    public var state: String
    public var sampleRate: Int
    /// Zoom's timestamp (ms) of the first sample of every file of the stream: files are aligned on it.
    public var originTimestamp: Int64?
    public var channels: [File]
    /// The stereo mix (left: the first party, right: the second), when the sink writes one.
    public var mixed: File?

    public init(streamID: String?, state: String, sampleRate: Int, originTimestamp: Int64?, channels: [File], mixed: File?) {
        self.streamID = streamID
        self.state = state
        self.sampleRate = sampleRate
        self.originTimestamp = originTimestamp
        self.channels = channels
        self.mixed = mixed
    }

    public struct File: Sendable, Hashable {
        /// The party's channel id (`mixed` for the mix).
        public var channel: String
        public var userName: String?
        public var path: String
        public var durationMillis: Int64
        /// Stretches the party sent nothing for (filled with silence), from the start of the file.
        public var gaps: [Gap]

        public init(channel: String, userName: String?, path: String, durationMillis: Int64, gaps: [Gap] = []) {
            self.channel = channel
            self.userName = userName
            self.path = path
            self.durationMillis = durationMillis
            self.gaps = gaps
        }
    }

    public struct Gap: Sendable, Hashable {
        public var atMillis: Int64
        public var durationMillis: Int64

        public init(atMillis: Int64, durationMillis: Int64) {
            self.atMillis = atMillis
            self.durationMillis = durationMillis
        }
    }
}
