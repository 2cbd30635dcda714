import Foundation
import RedisClient
import RelayCore

/// Publishes the events this instance ingests on `{prefix}cluster:events`, one message per batch the hub hands
/// over, so the other instances' live views (the agent page's SSE) show streams connected here.
///
/// A hub member of its own (`cluster` on `/health`), not a configured sink. It is a live view's relay: a batch
/// Redis cannot take is dropped, never retried, and nothing is stored. Events received from other instances go
/// only to live views (`LiveViewSink`) — never to this relay (so nothing loops) and never to the storage sinks
/// (each event is stored once, by the instance connected to its stream). With `relay_audio: false` audio frames
/// stay local, and other instances' pages show no levels or chunk counts for these streams.
public actor ClusterEventRelay: Sink {
    private let connection: RedisConnection
    private let channel: String
    private let origin: String
    private let relayAudio: Bool
    private let health: ClusterHealth
    private let signer: ClusterMessageSigner
    private let encoder: JSONEncoder
    /// Its `/health` entry (`cluster`), which also reports whether the cluster's Redis answers.
    public nonisolated let context: SinkContext
    /// Without `cluster.relay_audio` the hub does not hand the relay audio frames at all.
    public nonisolated var interests: EventInterests { relayAudio ? .all : .allButAudio }

    init(connection: RedisConnection, channel: String, origin: String, relayAudio: Bool, health: ClusterHealth, signer: ClusterMessageSigner,
         context: SinkContext) {
        self.connection = connection
        self.channel = channel
        self.origin = origin
        self.relayAudio = relayAudio
        self.health = health
        self.signer = signer
        self.context = context
        encoder = StreamEvent.jsonEncoder(pcm: .base64)
    }

    public func consume(_ events: [StreamEvent]) async throws {
        guard !events.isEmpty else { return }
        guard health.isReachable else { return }
        var publish = RedisCommand("PUBLISH", [channel])
        publish.append(bytes: signer.seal(try encoder.encode(RelayedEventsMessage(origin: origin, events: events)), purpose: channel))
        do {
            try await retryingOnce { try await connection.send(publish) }
        } catch {
            health.unreachable(error, logger: context.logger)
        }
    }

    public func finish() async throws {
        await connection.close()
    }
}
