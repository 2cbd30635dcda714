import ArgumentParser

/// Minimal root command for the `sim` branch; main's version (with every subcommand) replaces it on merge.
struct RTMSRelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rtms-relay", subcommands: [Simulate.self])
}

/// Runs the parsed subcommand's async `run()` (a plain `main()` call from main.swift picks the synchronous one).
func runParsed<Command: AsyncParsableCommand>(_ command: inout Command) async throws {
    try await command.run()
}

do {
    let parsed = try RTMSRelayCommand.parseAsRoot()
    if var simulate = parsed as? Simulate {
        try await runParsed(&simulate)
    } else {
        var other = parsed
        try other.run()
    }
} catch {
    RTMSRelayCommand.exit(withError: error)
}
