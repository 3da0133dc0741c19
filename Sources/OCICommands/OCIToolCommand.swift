import ArgumentParser

/// The `ocitool` command: one subcommand per verb.
public struct OCIToolCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ocitool",
        abstract: "Read, check, store and write container image archives without a daemon.",
        subcommands: [
            LoadCommand.self, ImagesCommand.self, InspectCommand.self, HistoryCommand.self,
            TagCommand.self, RmiCommand.self, PruneCommand.self, MembersCommand.self, ConfigCommand.self,
            UnpackCommand.self, ExportCommand.self, SquashCommand.self, DiffCommand.self,
            SaveCommand.self, CommitCommand.self, ConvertCommand.self,
            LoginCommand.self, LogoutCommand.self,
        ])
    public init() {}
}
