import NIOCore
import RelayCore
import Testing
@testable import WebSink

/// The page's log lines, in the original app's words (the SSE `status` feed keeps them for compatibility).
@Suite("Status lines")
struct StatusLineTests {
    func event(_ kind: StreamEvent.Kind, _ engagement: String, _ stream: String? = nil, at: Int64) -> StreamEvent {
        StreamEvent(timeMillis: at, engagementID: engagement, streamID: stream, kind: kind)
    }

    @Test("status lines use the original app's words; audio is counted per channel")
    func statusLines() {
        var builder = StatusLineBuilder(everyChunks: 2)
        func audio(_ channel: String) -> StreamEvent {
            event(.audio(AudioFrame(channel: channel, timestamp: 0, pcm: ByteBuffer())), "E", "S", at: 0)
        }
        #expect(builder.lines(for: event(.streamStarted(serverHost: "h"), "E", "S", at: 0)) == [StatusLine(level: .info, text: "Starting RTMS connection")])
        #expect(builder.lines(for: audio("1")) == [])
        #expect(builder.lines(for: audio("2")) == [])
        #expect(builder.lines(for: audio("1")) == [StatusLine(level: .success, text: "Received 2 audio chunks", channel: "1")])
        #expect(builder.lines(for: audio("2")) == [StatusLine(level: .success, text: "Received 2 audio chunks", channel: "2")])
        #expect(builder.lines(for: event(.streamPaused, "E", "S", at: 0)) == [StatusLine(level: .info, text: "RTMS paused")])
        #expect(builder.lines(for: event(.streamUnpaused, "E", "S", at: 0)) == [StatusLine(level: .info, text: "RTMS resumed")])
        #expect(builder.lines(for: event(.streamInterrupted(reason: "x", attempt: 3), "E", "S", at: 0)) == [StatusLine(level: .warning, text: "Connection lost, reconnecting (attempt 3)")])
        #expect(builder.lines(for: event(.streamStopped(StopReason(code: 25, name: "STOP_BC_MANUAL_API_TRIGGERED")), "E", "S", at: 0)) == [StatusLine(level: .success, text: "RTMS stopped")])
        #expect(builder.lines(for: event(.streamStopped(StopReason(code: 19, name: "STOP_BC_AWAIT_RECONNECTION_TIMEOUT")), "E", "S", at: 0))
            == [StatusLine(level: .warning, text: "RTMS stopped: STOP_BC_AWAIT_RECONNECTION_TIMEOUT (19)")])
        #expect(builder.lines(for: event(.streamFailed(statusCode: 3, message: "signaling handshake refused: Invalid signature"), "E", "S", at: 0))
            == [StatusLine(level: .error, text: "RTMS error: signaling handshake refused: Invalid signature (status 3)")])
    }

    @Test("an audio gap is said in plain words, with whose audio and why")
    func gapLine() {
        var builder = StatusLineBuilder()
        let gap = AudioGap(channel: "2", userName: "Sim Caller", fromTimestamp: 1_000, durationMillis: 2_440, cause: .reconnect)
        #expect(builder.lines(for: event(.audioGap(gap), "E", "S", at: 0))
            == [StatusLine(level: .warning, text: "2.4 s of Sim Caller's audio missing after a reconnect", channel: "2")])
    }
}
