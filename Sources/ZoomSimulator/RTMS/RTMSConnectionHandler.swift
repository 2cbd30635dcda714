import HTTPTypes
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket

/// Serves one RTMS listener: routes `/signaling` and `/media/<kind>` upgrades, validates handshakes in the
/// documented order, and runs each accepted connection (mailbox writer, keep-alive timer, reader) as child tasks
/// of the connection's own handler; media frames go out through the shared `MediaPacer`.
struct RTMSConnectionHandler: Sendable {
    let registry: EngagementRegistry
    /// Sends every media connection's frames.
    let pacer: MediaPacer
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
                await registry.connectionOpened()
                await self.runSignaling(inbound: inbound, outbound: outbound, channel: channel)
                await registry.connectionClosed()
            }
        }
        if path.hasPrefix("/media/"), let kind = MediaURLKind(rawValue: String(path.dropFirst("/media/".count))) {
            return .upgrade([:]) { inbound, outbound, _ in
                await registry.connectionOpened()
                await self.runMedia(kind: kind, inbound: inbound, outbound: outbound, channel: channel)
                await registry.connectionClosed()
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
        await serve(link: link, mailbox: mailbox, stream: stream, outbound: outbound, channel: channel, messages: &messages, paced: false) {
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
            paced: true) { message in
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
    /// keep-alive timer run as child tasks; a media connection is paced by the shared `MediaPacer` meanwhile.
    private func serve(
        link: ConnectionLink, mailbox: AsyncStream<ConnectionCommand>, stream: SimulatedStream,
        outbound: WebSocketOutboundWriter, channel: any Channel,
        messages: inout WebSocketInboundMessageStream.AsyncIterator, paced: Bool,
        handle: (RTMSClientMessage?) async -> Void
    ) async {
        let encoding = configuration.frameEncoding
        let interval = configuration.keepAliveInterval
        // The pacer writes media straight to the channel; a close must go after its last frames, or frames the
        // stream counted as sent would follow the close frame and never be read.
        let pacerDone: AsyncStream<Void>
        if paced {
            pacerDone = self.pacer.add(link: link, stream: stream, channel: channel, encoding: encoding)
        } else {
            let (done, finished) = AsyncStream.makeStream(of: Void.self)
            finished.finish()
            pacerDone = done
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await command in mailbox {
                    switch command {
                    case .send(let buffer):
                        try? await outbound.write(.custom(WebSocketFrame(fin: true, opcode: encoding == .text ? .text : .binary, data: buffer)))
                    case .raw(let opcode, let buffer):
                        try? await outbound.write(.custom(WebSocketFrame(fin: true, opcode: opcode, data: buffer)))
                    case .close(let code, let reason):
                        // A stopped stream detaches the link, so the pacer ends within a frame period.
                        for await _ in pacerDone {}
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
            while let message = try? await messages.next() {
                await handle(RTMSClientMessage.parse(Self.bytes(message)))
            }
            if paced { pacer.remove(linkID: link.id) }
            link.mailbox.finish()
            group.cancelAll()
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
