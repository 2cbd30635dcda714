import NIOCore
import Testing
@testable import RTMSIngest

@Suite("Ingest thread priority")
struct IngestThreadPriorityTests {
    @Test("every ingest event loop runs 5 nice levels below the main thread, so the HTTP server's threads are scheduled first")
    func ingestYieldsToControlPlane() async throws {
        #if os(Linux)
        let target = try #require(IngestThreadPriority.target)
        var loops = 0
        for loop in RTMSClientConfiguration.ingestEventLoopGroup.makeIterator() {
            let level = try await loop.submit { IngestThreadPriority.current }.get()
            #expect(level == target)
            loops += 1
        }
        #expect(loops == System.coreCount)
        // The test's own thread (like the HTTP server's) is untouched.
        #expect(IngestThreadPriority.current != target)
        #endif
    }
}
