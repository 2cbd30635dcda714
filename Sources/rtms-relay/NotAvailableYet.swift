import ArgumentParser

/// Commands whose issues have not landed yet answer clearly instead of pretending.
protocol NotAvailableYet: AsyncParsableCommand {}

extension NotAvailableYet {
    func run() async throws {
        throw CommandFailure.badInput("'\(Self._commandName)' is not available yet in this build")
    }
}

/// `rtms-relay bench` (SPEC §9).
struct Bench: NotAvailableYet {
    static let configuration = CommandConfiguration(abstract: "Load benchmark with simulated calls (not available yet).")
    @Option var calls = 100
    @Option var seconds = 30
    @Flag var json = false
}
