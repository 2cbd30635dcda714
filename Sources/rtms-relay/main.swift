import ArgumentParser

// Minimal root command so `replay` builds on the sinks branch; main's command line replaces this file.
struct RTMSRelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rtms-relay", subcommands: [Replay.self])
}

await RTMSRelayCommand.main(nil)
