import Foundation

/// Everything that shapes one simulated Zoom: where it listens, which credentials it expects, where it sends
/// webhooks and how fast its timers run. Defaults follow docs/zoom-rtms.md; tests shorten the timers.
public struct SimulatorConfiguration: Sendable {
    /// How the RTMS listeners speak: plain `ws://`, or `wss://` with a certificate.
    public enum TLSMode: Sendable {
        /// Plain `ws://` (the official SDK accepts it).
        case none
        /// `wss://` with a CA and a leaf certificate generated at start-up. The leaf carries DNS SANs
        /// `localhost` and the host literal (the SDK only matches DNS-type SANs, even for `127.0.0.1`),
        /// plus an IP SAN. The CA is written to `caOutputPath` when given, for clients to trust.
        case generated(caOutputPath: String?)
        /// `wss://` with PEM files supplied by the operator.
        case files(certificateChainPath: String, privateKeyPath: String)
    }

    /// Whether JSON goes out in WebSocket text or binary frames (Zoom uses text; both are valid JSON carriers).
    public enum FrameEncoding: Sendable { case text, binary }

    /// Interface every listener binds to; also the host written into URLs.
    public var host: String = "127.0.0.1"
    /// Port of the HTTP listener serving OAuth (`/oauth/*`) and REST (`/v2/*`); 0 picks a free port.
    public var httpPort: Int = 0
    /// Port of the primary RTMS listener (signaling and media); 0 picks a free port.
    public var rtmsPort: Int = 0
    /// Port of the second RTMS listener that `failover` moves streams to; 0 picks a free port.
    public var failoverRTMSPort: Int = 0
    public var tls: TLSMode = .none
    /// With `.generated`, whether the leaf certificate carries an IP SAN; false lets tests check that a client
    /// connecting by IP address refuses a certificate that names no IP.
    public var generatedCertificateHasIPSAN = true

    /// The Marketplace app's OAuth client id; part of every handshake signature.
    public var clientID: String = "SIMCLIENTID"
    /// The OAuth client secret; the key of every handshake signature.
    public var clientSecret: String = "SIMCLIENTSECRET"
    /// The event-subscription Secret Token that signs webhooks (not the client secret).
    public var webhookSecretToken: String = "SIMWEBHOOKSECRET"
    /// Where webhooks are POSTed, e.g. `http://127.0.0.1:3001/api/webhooks/zoom`; nil sends none.
    public var webhookURL: String?
    /// Account id reported in webhooks and voice events.
    public var accountID: String = "simAccount01"
    /// The agent an engagement is routed to when `createEngagement` names none (a Zoom user id).
    public var agentUserID: String = "simAgent01"
    /// Whether `contact_center.engagement_started/ended` name the agent (`object.agents[].user_id`). When false,
    /// only `GET /v2/contact_center/engagements/{id}` says who is on the call.
    public var webhooksNameAgents = true
    /// The Zoom user who consents on `/oauth/authorize`, as `GET /v2/users/me` reports them.
    public var authorizingUser = SimulatedUser(id: "simAdmin01", roleName: "Admin")

    /// Keep-alive request period on every socket; three unanswered requests end the stream with reason 24.
    public var keepAliveInterval: Duration = .seconds(10)
    /// How many unanswered keep-alives end the stream.
    public var keepAliveMisses: Int = 3
    /// Lifetime of OAuth access tokens.
    public var accessTokenLifetime: Duration = .seconds(3600)
    /// Lifetime of authorization codes.
    public var authorizationCodeLifetime: Duration = .seconds(300)
    /// How long a dropped media connection may take to come back before the stream ends (docs: 65 s).
    public var mediaReconnectWindow: Duration = .seconds(65)
    /// How long a dropped signaling connection may take to come back before the stream ends (docs: 60 s).
    public var signalingReconnectWindow: Duration = .seconds(60)
    /// How much audio is buffered while no client is connected (docs: 60 s); flushed on (re)connect.
    public var audioBufferLimit: Duration = .seconds(60)
    /// Audio sample rate in Hz. Only 16 kHz is produced (the `sample_rate` index 1).
    public var audioSampleRate: Int = 16_000
    /// Audio frame duration in milliseconds (20 ms = 640 bytes of s16le mono at 16 kHz).
    public var audioFrameMilliseconds: Int = 20
    public var frameEncoding: FrameEncoding = .text
    /// Timeout for each webhook delivery (Zoom expects an answer within 3 s).
    public var webhookTimeout: Duration = .seconds(3)

    public init() {}

    /// A Zoom user of the simulated account.
    public struct SimulatedUser: Sendable {
        public var id: String
        /// `Owner`, `Admin` or `Member`.
        public var roleName: String
        public init(id: String, roleName: String) {
            self.id = id
            self.roleName = roleName
        }
    }

    var scheme: String {
        if case .none = tls { return "ws" }
        return "wss"
    }
}
