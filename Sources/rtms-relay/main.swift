import ArgumentParser

// Minimal root command so `replay` builds and runs on the sinks branch; main's command line replaces this file.
struct RTMSRelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rtms-relay", subcommands: [Replay.self])
}

/// Top-level code picks ParsableCommand's synchronous `main()`; from an async function the async one wins.
func runAsync<Command: AsyncParsableCommand>(_ command: Command.Type) async {
    await command.main()
}

await runAsync(RTMSRelayCommand.self)
