import ArgumentParser

/// The `ocitool` command: one subcommand per verb.
public struct OCIToolCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ocitool",
        abstract: "Read, check, store and write container image archives without a daemon.",
        discussion: """
        Global options may come before the verb: `ocitool --root DIR VERB …` is `ocitool VERB --root DIR …`. \
        docker's shapes work too: `ocitool image ls|inspect|rm|prune|tag|save|load|history`, `ocitool images`, \
        `ocitool rmi`, Go-template --format, -H=false. Where a verb picks one platform of a multi-platform image it \
        is this machine's unless --platform names another.

        Environment: OCITOOL_ROOT (the store, default $XDG_DATA_HOME/ocitool or ~/.local/share/ocitool), \
        SOURCE_DATE_EPOCH (timestamps of written archives and new images), TMPDIR (spools), NO_COLOR (nothing to turn off: ocitool writes no colour), \
        REGISTRY_AUTH_FILE (registry credentials; default the containers auth.json, else ~/.docker/config.json). See `ocitool help-man`.

        Examples:
          ocitool load -i app.tar
          ocitool --root /var/lib/images images --format '{{.Repository}}:{{.Tag}}'
          ocitool inspect -f '{{json .Config}}' app:1
          source <(ocitool --generate-completion-script bash)
        """,
        version: VersionInfo.text,
        subcommands: [
            LoadCommand.self, ImagesCommand.self, InspectCommand.self, HistoryCommand.self,
            TagCommand.self, RmiCommand.self, PruneCommand.self, ImageGroupCommand.self, MembersCommand.self, ConfigCommand.self,
            UnpackCommand.self, ExportCommand.self, SquashCommand.self, DiffCommand.self, AnalyzeCommand.self,
            SaveCommand.self, CommitCommand.self, ConvertCommand.self, CopyCommand.self,
            ManifestCommand.self, DigestCommand.self, ValidateCommand.self, LsCommand.self, CatCommand.self, FsckCommand.self,
            LoginCommand.self, LogoutCommand.self, PullCommand.self, PushCommand.self, SyncCommand.self, VersionCommand.self,
            HelpManCommand.self,
        ])
    public init() {}
}
