import HTTPTypes
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket

/// Serves one RTMS listener: routes `/signaling` and `/media/<kind>` upgrades, validates handshakes in the
/// documented order, and runs each accepted connection (mailbox writer, keep-alive timer, media pacer, reader)
/// as child tasks of the connection's own handler.
struct RTMSConnectionHandler: Sendable {
    let registry: EngagementRegistry
    let listener: Int
    let configuration: SimulatorConfiguration
    let mediaURLs: @Sendable () async -> [String: String]
    let logger: Logger

    typealias Handler = WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>

    /// Picks the handler for an upgrade request by path; any other path stays plain HTTP (and gets 404).
    func shouldUpgrade(_ request: HTTPRequest, channel: any Channel) -> ShouldUpgradeResult<Handler> {
        let path = request.path.map { String($0.prefix { $0 != "?" }) } ?? ""
        if path == "/signaling" {
            return .upgrade([:]) { inbound, outbound, _ in
                await self.runSignaling(inbound: inbound, outbound: outbound, channel: channel)
            }
        }
        if path.hasPrefix("/media/"), let kind = MediaURLKind(rawValue: String(path.dropFirst("/media/".count))) {
            return .upgrade([:]) { inbound, outbound, _ in
                await self.runMedia(kind: kind, inbound: inbound, outbound: outbound, channel: channel)
            }
        }
        return .dontUpgrade
    }

    // MARK: Signaling

    private func runSignaling(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel) async {
        var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
        guard let first = try? await messages.next() else { return }
        let request = RTMSClientMessage.parse(Self.bytes(first))
        var response = SignalingHandshakeResponse(sequence: request?.sequence ?? 0, statusCode: .ok, reason: "")
        let (status, stream) = await validate(request, expectedType: .signalingHandshakeRequest)
        guard status == .ok, let stream, let request else {
            await refuse(response, status: status, outbound: outbound)
            return
        }
        let (mailbox, continuation) = AsyncStream<ConnectionCommand>.makeStream()
        let link = ConnectionLink(id: await registry.makeLinkID(), mailbox: continuation)
        let attached = await stream.attachSignaling(link, listener: listener, bufferData: request.bufferData ?? true)
        guard attached == .ok else {
            await refuse(response, status: attached, outbound: outbound)
            return
        }
        response.mediaServer = .init(serverURLs: await mediaURLs())
        await write(response, outbound)
        await stream.signalingEstablished()
        await serve(link: link, mailbox: mailbox, stream: stream, outbound: outbound, channel: channel, messages: &messages, pacer: nil) {
            message in
            guard let message, let type = message.msgType.flatMap(RTMSMessageType.init(rawValue:)) else { return }
            switch type {
            case .eventSubscription: await stream.subscribe(message.events ?? [])
            case .clientReadyAck: await stream.clientReady()
            case .keepAliveResponse: await stream.keepAliveAnswered(linkID: link.id, timestamp: message.timestamp)
            case .sessionStateRequest: await stream.sessionStateRequest(sessionID: message.rtmsSessionID)
            case .streamStateRequest: await stream.streamStateRequest()
            case .streamCloseRequest: await stream.closeRequested()
            case .videoSubscriptionRequest: await stream.videoSubscription(userID: 0)
            case .signalingHandshakeRequest:
                // A second handshake on a live socket is a duplicate signaling request.
                let duplicate = SignalingHandshakeResponse(sequence: message.sequence ?? 0, statusCode: .duplicateSignalRequest,
                    reason: RTMSStatusCode.duplicateSignalRequest.reason)
                if let buffer = JSONWire.encode(duplicate) { link.send(buffer) }
            default: break
            }
        }
        await stream.detach(linkID: link.id)
    }

    // MARK: Media

    private func runMedia(kind: MediaURLKind, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel) async {
        var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
        guard let first = try? await messages.next() else { return }
        let request = RTMSClientMessage.parse(Self.bytes(first))
        var response = DataHandshakeResponse(sequence: request?.sequence ?? 0, statusCode: .ok, reason: "")
        let (status, stream) = await validate(request, expectedType: .dataHandshakeRequest)
        guard status == .ok, let stream, let request else {
            await refuse(response, status: status, outbound: outbound)
            return
        }
        let negotiation = MediaNegotiation.negotiate(kind: kind, mediaType: request.mediaType, params: request.mediaParams)
        guard case .accepted(let kinds, let confirmed, let framesPerMessage) = negotiation else {
            if case .refused(let code) = negotiation { await refuse(response, status: code, outbound: outbound) }
            return
        }
        let (mailbox, continuation) = AsyncStream<ConnectionCommand>.makeStream()
        let link = ConnectionLink(id: await registry.makeLinkID(), mailbox: continuation)
        let attached = await stream.attachMedia(link, listener: listener, kinds: kinds, framesPerMessage: framesPerMessage)
        guard attached == .ok else {
            await refuse(response, status: attached, outbound: outbound)
            return
        }
        response.mediaParams = confirmed
        await write(response, outbound)
        await serve(link: link, mailbox: mailbox, stream: stream, outbound: outbound, channel: channel, messages: &messages,
            pacer: framesPerMessage) { message in
            if message?.msgType == RTMSMessageType.keepAliveResponse.rawValue {
                await stream.keepAliveAnswered(linkID: link.id, timestamp: message?.timestamp)
            }
        }
        await stream.detach(linkID: link.id)
    }

    // MARK: Shared

    /// Handshake checks in the documented order: message type, instance id, stream id, signature.
    private func validate(_ request: RTMSClientMessage?, expectedType: RTMSMessageType) async -> (RTMSStatusCode, SimulatedStream?) {
        guard let request else { return (.invalidPayload, nil) }
        guard request.msgType == expectedType.rawValue else { return (.invalidMessageType, nil) }
        guard let instanceID = request.instanceID else { return (.invalidPayload, nil) }
        guard let streamID = request.rtmsStreamID, !streamID.isEmpty,
            let stream = await registry.handshakeTarget(streamID: streamID, instanceID: instanceID)
        else { return (.invalidStreamID, nil) }
        guard let signature = request.signature, HMACHex.constantTimeEqual(signature.lowercased(), stream.expectedSignature) else {
            return (.invalidSignature, nil)
        }
        return (.ok, stream)
    }

    private func refuse<Response: Encodable & StatusCarrying>(_ response: Response, status: RTMSStatusCode, outbound: WebSocketOutboundWriter) async {
        var response = response
        response.statusCode = status
        response.reason = status.reason
        await write(response, outbound)
        try? await outbound.close(.normalClosure, reason: status.reason)
    }

    /// Runs an accepted connection until its socket closes: the reader runs here, the mailbox writer, the
    /// keep-alive timer and (for media) the pacer run as child tasks.
    private func serve(
        link: ConnectionLink, mailbox: AsyncStream<ConnectionCommand>, stream: SimulatedStream,
        outbound: WebSocketOutboundWriter, channel: any Channel,
        messages: inout WebSocketInboundMessageStream.AsyncIterator, pacer: Int?,
        handle: (RTMSClientMessage?) async -> Void
    ) async {
        let encoding = configuration.frameEncoding
        let interval = configuration.keepAliveInterval
        let frameMilliseconds = configuration.audioFrameMilliseconds
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await command in mailbox {
                    switch command {
                    case .send(let buffer):
                        try? await outbound.write(.custom(WebSocketFrame(fin: true, opcode: encoding == .text ? .text : .binary, data: buffer)))
                    case .raw(let opcode, let buffer):
                        try? await outbound.write(.custom(WebSocketFrame(fin: true, opcode: opcode, data: buffer)))
                    case .close(let code, let reason):
                        try? await outbound.close(code, reason: reason)
                        // Give the client a moment to answer the close frame, then drop the socket.
                        if (try? await Task.sleep(for: .seconds(2))) != nil { channel.close(promise: nil) }
                        return
                    case .abort:
                        channel.close(promise: nil)
                        return
                    }
                }
            }
            group.addTask {
                while (try? await Task.sleep(for: interval)) != nil {
                    switch await stream.keepAliveTick(linkID: link.id) {
                    case .send(let request):
                        if let buffer = JSONWire.encode(request) { link.send(buffer) }
                    case .skip:
                        continue
                    case .expired, .gone:
                        return
                    }
                }
            }
            if pacer != nil {
                group.addTask {
                    await Self.pace(link: link, stream: stream, channel: channel, encoding: encoding, frameMilliseconds: frameMilliseconds)
                }
            }
            while let message = try? await messages.next() {
                await handle(RTMSClientMessage.parse(Self.bytes(message)))
            }
            link.mailbox.finish()
            group.cancelAll()
        }
    }

    /// Sends due media every frame period; audio comes from the pre-encoded templates.
    ///
    /// The frames of one tick are written straight to the channel in one event-loop task with a single flush,
    /// instead of one async write each through the WebSocket writer: this is the hot path of a thousand calls.
    /// (The async-channel handler in the pipeline passes outbound writes through unchanged.) When the socket stops
    /// being writable the pacer waits for the last flush, so a stalled client cannot grow memory without bound.
    private static func pace(link: ConnectionLink, stream: SimulatedStream, channel: any Channel,
        encoding: SimulatorConfiguration.FrameEncoding, frameMilliseconds: Int) async {
        let templates = AudioFrameTemplates.shared
        let allocator = channel.allocator
        let period = Duration.milliseconds(frameMilliseconds)
        let opcode: WebSocketOpcode = encoding == .text ? .text : .binary
        var next = ContinuousClock.now
        var lastFlush: EventLoopFuture<Void>?
        while !Task.isCancelled {
            next = next.advanced(by: period)
            let now = ContinuousClock.now
            if next < now.advanced(by: .milliseconds(-200)) { next = now }
            guard (try? await Task.sleep(until: next)) != nil else { return }
            guard let batch = await stream.takeMedia(linkID: link.id, now: .now) else { return }
            guard !batch.audio.isEmpty || !batch.transcripts.isEmpty else { continue }
            var frames: [WebSocketFrame] = []
            frames.reserveCapacity(batch.audio.count + batch.transcripts.count)
            for item in batch.audio {
                let buffer = item.indices.count == 1
                    ? templates.message(channel: item.channel, index: item.indices.lowerBound, timestamp: item.timestamp, allocator: allocator)
                    : templates.message(channel: item.channel, indices: item.indices, timestamp: item.timestamp, allocator: allocator)
                frames.append(WebSocketFrame(fin: true, opcode: opcode, data: buffer))
            }
            for buffer in batch.transcripts { frames.append(WebSocketFrame(fin: true, opcode: opcode, data: buffer)) }
            if !channel.isWritable, let lastFlush {
                guard (try? await lastFlush.get()) != nil else { return }
            }
            guard channel.isActive else { return }
            let promise = channel.eventLoop.makePromise(of: Void.self)
            let toWrite = frames
            channel.eventLoop.execute {
                for frame in toWrite.dropLast() { channel.write(frame, promise: nil) }
                channel.writeAndFlush(toWrite[toWrite.count - 1], promise: promise)
            }
            lastFlush = promise.futureResult
        }
    }

    private func write(_ message: some Encodable, _ outbound: WebSocketOutboundWriter) async {
        guard let buffer = JSONWire.encode(message) else { return }
        let opcode: WebSocketOpcode = configuration.frameEncoding == .text ? .text : .binary
        try? await outbound.write(.custom(WebSocketFrame(fin: true, opcode: opcode, data: buffer)))
    }

    static func bytes(_ message: WebSocketMessage) -> [UInt8] {
        switch message {
        case .text(let string): Array(string.utf8)
        case .binary(let buffer): Array(buffer.readableBytesView)
        }
    }
}

/// Handshake responses that carry `status_code` and `reason`.
protocol StatusCarrying {
    var statusCode: RTMSStatusCode { get set }
    var reason: String { get set }
}

extension SignalingHandshakeResponse: StatusCarrying {}
extension DataHandshakeResponse: StatusCarrying {}
