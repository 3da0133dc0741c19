import ArgumentParser

/// `ocitool image ls|inspect|rm|prune|tag|save|load|history`: docker's
/// `docker image …` command shapes, reusing the top-level verbs.
struct ImageGroupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Manage images (docker image …): ls, inspect, rm, prune, tag, save, load, history.",
        discussion: """
        The same verbs as the top-level ones: `ocitool image ls` is `ocitool images`, `ocitool image rm` is \
        `ocitool rmi`, the others keep their names.

        Examples:
          ocitool image ls --format '{{.Repository}}:{{.Tag}}'
          ocitool image inspect -f '{{.Os}}/{{.Architecture}}' busybox
          ocitool image rm myapp:1.0
          ocitool image prune -a -f
        """,
        subcommands: [
            ImageLsCommand.self, InspectCommand.self, ImageRmCommand.self, PruneCommand.self, TagCommand.self,
            SaveCommand.self, LoadCommand.self, HistoryCommand.self,
        ])
}

/// `image ls` (alias `image list`): `images` under docker's name.
struct ImageLsCommand: ParsableCommand {
    static let configuration: CommandConfiguration = {
        var c = ImagesCommand.configuration
        c.commandName = "ls"
        c.aliases = ["list"]
        return c
    }()

    @OptionGroup var command: ImagesCommand

    func run() throws { try command.run() }
}

/// `image rm` (alias `image remove`): `rmi` under docker's name.
struct ImageRmCommand: ParsableCommand {
    static let configuration: CommandConfiguration = {
        var c = RmiCommand.configuration
        c.commandName = "rm"
        c.aliases = ["remove"]
        return c
    }()

    @OptionGroup var command: RmiCommand

    func run() throws { try command.run() }
}
