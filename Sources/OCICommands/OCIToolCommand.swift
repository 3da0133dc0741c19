import ArgumentParser

/// The `ocitool` command: one subcommand per verb.
public struct OCIToolCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ocitool",
        abstract: "Read, check, store and write container image archives without a daemon.",
        subcommands: [
            LoadCommand.self, ImagesCommand.self, InspectCommand.self, HistoryCommand.self,
            TagCommand.self, RmiCommand.self, PruneCommand.self, MembersCommand.self, ConfigCommand.self,
            UnpackCommand.self, ExportCommand.self, SquashCommand.self, DiffCommand.self, AnalyzeCommand.self,
            SaveCommand.self, CommitCommand.self, ConvertCommand.self, CopyCommand.self,
            ManifestCommand.self, DigestCommand.self, ValidateCommand.self, LsCommand.self, CatCommand.self, FsckCommand.self,
            LoginCommand.self, LogoutCommand.self, PullCommand.self, PushCommand.self, SyncCommand.self,
        ])
    public init() {}
}
