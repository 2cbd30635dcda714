import NIOCore
import NIOPosix
import NIOSSL
import RelayCore
import ZoomWebhooks
#if canImport(Glibc)
import Glibc
#endif

/// Everything an `RTMSSession` needs besides the stream: credentials, the media to ask for, timers, the host
/// allow-list and TLS trust. Built from `ZoomSettings` in production; tests shorten the timers.
public struct RTMSClientConfiguration: Sendable {
    public var clientID: String
    public var clientSecret: Secret
    /// Audio to request: L16, 16 kHz, mono, 20 ms unless configured otherwise.
    public var media: MediaParameters
    /// Audio data option; ZCC sends one stream per `channel_id` either way.
    public var audioDataOption: RTMSAudioDataOption
    /// Whether to ask for Zoom's live transcript on the media socket too (`zoom.transcripts`).
    public var transcripts: Bool
    public var allowList: HostAllowList
    /// Trust for `wss://` (honours `zoom.ca_file`); nil uses the system defaults.
    public var tlsConfiguration: TLSConfiguration?
    /// The HTTP proxy the WebSockets are tunnelled through (`zoom.proxy` or `HTTPS_PROXY`); nil connects directly.
    public var proxy: OutboundProxy?
    public var reconnectBase: Duration
    public var reconnectMaximum: Duration
    public var maxReconnectAttempts: Int
    /// A socket with no inbound frame for this long counts as lost (Zoom: re-establish after 65 s of silence).
    public var livenessTimeout: Duration
    public var closeTimeout: Duration
    /// When a stream ends, how long the media socket may take to deliver what Zoom already sent and close.
    public var mediaDrainTimeout: Duration = .seconds(1)
    /// Events subscribed with EVENT_SUBSCRIPTION, by product (ZCC: the voice events 8–29).
    public var zccSubscribedEvents: [Int]
    /// Sent as `rtms_client_agent` in the signaling handshake, like the official SDK does.
    public var clientAgent: String
    public var maxFrameSize: Int
    /// Where the RTMS sockets run, and where their frames are parsed (`RTMSFrameHandler`).
    public var eventLoopGroup: any EventLoopGroup

    /// Ingest's own event loops, one per core, for the life of the process: not the HTTP server's, so that
    /// webhooks and `/health` are answered on threads that are never busy parsing audio. The kernel shares the
    /// cores between both, and ingest's threads ask for less (`IngestThreadPriority`).
    public static let ingestEventLoopGroup: MultiThreadedEventLoopGroup = {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        for loop in group.makeIterator() { loop.execute { IngestThreadPriority.yieldToControlPlane() } }
        return group
    }()

    public init(clientID: String, clientSecret: Secret, allowedHosts: [String], allowInsecure: Bool = false, media: MediaParameters = MediaParameters(),
                audioDataOption: RTMSAudioDataOption = .mixedStream, transcripts: Bool = true, tlsConfiguration: TLSConfiguration? = nil,
                reconnectBase: Duration = .seconds(3), reconnectMaximum: Duration = .seconds(30), maxReconnectAttempts: Int = 8,
                livenessTimeout: Duration = .seconds(65), closeTimeout: Duration = .seconds(2),
                zccSubscribedEvents: [Int] = ZCCVoiceEventType.allCases.map(\.rawValue), clientAgent: String = "rtms-relay/0.1",
                maxFrameSize: Int = 1 << 22, eventLoopGroup: any EventLoopGroup = RTMSClientConfiguration.ingestEventLoopGroup) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.media = media
        self.audioDataOption = audioDataOption
        self.transcripts = transcripts
        self.allowList = HostAllowList(allowedHosts, allowInsecure: allowInsecure)
        self.tlsConfiguration = tlsConfiguration
        self.reconnectBase = reconnectBase
        self.reconnectMaximum = reconnectMaximum
        self.maxReconnectAttempts = maxReconnectAttempts
        self.livenessTimeout = livenessTimeout
        self.closeTimeout = closeTimeout
        self.zccSubscribedEvents = zccSubscribedEvents
        self.clientAgent = clientAgent
        self.maxFrameSize = maxFrameSize
        self.eventLoopGroup = eventLoopGroup
    }

    /// The production configuration from `zoom:`; `ca_file`, when set, is added to the trusted roots for `wss://`.
    public init(settings: ZoomSettings) throws {
        var tls: TLSConfiguration?
        if !settings.caFile.isEmpty {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.additionalTrustRoots = [.file(settings.caFile)]
            tls = configuration
        }
        self.init(clientID: settings.clientID, clientSecret: settings.clientSecret, allowedHosts: settings.rtmsAllowedHosts,
                  allowInsecure: settings.allowInsecureRTMS, transcripts: settings.transcripts, tlsConfiguration: tls)
        proxy = settings.proxy
    }

    var stateMachineConfiguration: RTMSSessionStateMachine.Configuration {
        .init(reconnectBase: reconnectBase, reconnectMaximum: reconnectMaximum, maxReconnectAttempts: maxReconnectAttempts,
              allowList: allowList, closeTimeout: closeTimeout, requestedMedia: media, transcripts: transcripts)
    }

    var requestedAudio: DataHandshakeRequest.AudioParams {
        DataHandshakeRequest.AudioParams(
            sampleRate: (RTMSAudioSampleRate(hertz: media.audio.sampleRate) ?? .hz16000).rawValue,
            channel: media.audio.channels,
            codec: RTMSAudioCodec(media.audio.codec).rawValue,
            dataOpt: audioDataOption.rawValue,
            sendRate: media.frameMilliseconds)
    }

    /// `media_params.transcript`: text segments (content type 5) of an English call, with Zoom's language
    /// identification on so that a call in another language is still transcribed in it.
    var requestedTranscript: DataHandshakeRequest.TranscriptParams {
        DataHandshakeRequest.TranscriptParams(srcLanguage: RTMSTranscriptLanguage.english, enableLID: true)
    }
}

/// Ingest's threads run `niceIncrement` nice levels below the process's main thread (Linux keeps nice per
/// thread), so when audio takes every core the kernel still runs the HTTP server's threads first: webhooks and
/// `/health` are answered in time, and ingest slows instead (TCP backpressure to Zoom, which buffers).
/// Measured at 1,000 calls in BENCHMARKS.md.
enum IngestThreadPriority {
    static let niceIncrement: Int32 = 5

    /// The nice level ingest's threads get: the main thread's plus `niceIncrement`, at most 19; nil where
    /// per-thread priorities are not available.
    static var target: Int32? {
        #if os(Linux)
        errno = 0
        // With a process id, Linux reads the thread whose id it is: the main thread.
        let base = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(getpid()))
        guard errno == 0 else { return nil }
        return min(base + niceIncrement, 19)
        #else
        return nil
        #endif
    }

    /// The calling thread's nice level.
    static var current: Int32? {
        #if os(Linux)
        errno = 0
        let value = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)   // 0: the calling thread
        return errno == 0 ? value : nil
        #else
        return nil
        #endif
    }

    /// Lowers the calling thread to `target` (raising a nice level needs no privilege).
    static func yieldToControlPlane() {
        #if os(Linux)
        guard let target else { return }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, target)
        #endif
    }
}
