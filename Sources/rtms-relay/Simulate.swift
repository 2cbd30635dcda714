import ArgumentParser

/// `rtms-relay simulate` (SPEC §2) — replaced by the simulator issue.
struct Simulate: NotAvailableYet {
    static let configuration = CommandConfiguration(abstract: "A fake Zoom for a relay running elsewhere (not available yet).")
    @Option var relay: String?
}
