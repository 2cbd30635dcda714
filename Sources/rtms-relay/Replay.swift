import ArgumentParser

/// `rtms-relay replay` (SPEC §2) — replaced by the storage sinks issue.
struct Replay: NotAvailableYet {
    static let configuration = CommandConfiguration(abstract: "Feed archived events to the configured sinks (not available yet).")
    @Option var archive: String?
    @Option var engagement: String?
}
