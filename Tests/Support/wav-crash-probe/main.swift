// Records two parties through the real EventHub and WAVSink in real time (50 frames a second each) until
// it is killed. The WAV sink's crash test SIGKILLs it and then checks the files it left behind.
//
// usage: wav-crash-probe DIRECTORY
// prints "published N" (frames per party) after every frame, so the parent knows how much audio was sent.
import Foundation
import Logging
import RelayCore
import RelayTesting
import WAVSink

let directory = CommandLine.arguments.dropFirst().first ?? "recordings"
let logger = Logger(label: "wav-crash-probe")
let context = SinkContext(id: "wav", logger: logger)
let sink = WAVSink(options: WAVSinkOptions(directory: directory, mix: .stereo), context: context)
var policy = QueuePolicy()
policy.overflow = .block
let hub = EventHub(members: [EventHub.Member(id: "wav", typeName: WAVSink.typeName, policy: policy, sink: sink, context: context)], logger: logger)
let audio = DeterministicAudio()

try await withThrowingTaskGroup(of: Void.self) { group in
    group.addTask { try await hub.run() }
    await hub.publish(audio.connected(engagement: "crash", stream: "s1"))
    let start = ContinuousClock.now
    for frame in 0..<3_000 {
        try await Task.sleep(until: start + .milliseconds(frame * audio.frameMilliseconds))
        await hub.publish(audio.event(engagement: "crash", stream: "s1", channel: "agent", party: 0, frame: frame))
        await hub.publish(audio.event(engagement: "crash", stream: "s1", channel: "customer", party: 1, frame: frame))
        FileHandle.standardOutput.write(Data("published \(frame + 1)\n".utf8))
    }
    hub.close()
    try await group.waitForAll()
}
