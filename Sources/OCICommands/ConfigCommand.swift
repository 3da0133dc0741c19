import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIStore
import OCIArchive
import OCIImage
import OCITransport

/// Options shared by `config` and `commit`: config changes and history text.
struct ChangeOptions: ParsableArguments {
    @Option(name: [.short, .customLong("change")], help: "Apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL, ONBUILD (repeatable).")
    var changes: [String] = []
    @Option(name: .long, help: "Set a label KEY=VALUE (repeatable).")
    var label: [String] = []
    @Option(name: .long, help: "Set an environment variable NAME=VALUE (repeatable).")
    var env: [String] = []
    @Option(name: [.short, .customLong("message")], help: "Commit message (history comment).")
    var message: String?
    @Option(name: [.short, .customLong("author")], help: "Author (e.g. \"Jane <jane@example.com>\").")
    var author: String?
    @Option(name: .customLong("created-by"), help: "The history entry's created_by text.")
    var createdBy: String?

    /// Every change, parsed (so a bad one fails before any work).
    func parsed() throws -> [ConfigChange] {
        var out = try changes.map { try ConfigChange(parsing: $0) }
        out += try label.map { try ConfigChange(parsing: "LABEL " + Self.quotedPair($0)) }
        out += try env.map { try ConfigChange(parsing: "ENV " + Self.quotedPair($0)) }
        return out
    }

    static func quotedPair(_ kv: String) throws -> String {
        guard let eq = kv.firstIndex(of: "="), eq != kv.startIndex else {
            throw ValidationError("expected KEY=VALUE, got \"\(kv)\"")
        }
        let value = kv[kv.index(after: eq)...].replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\(kv[..<eq])=\"\(value)\""
    }

    /// Sets `created`/`author` and appends the history entry (the changes are applied by the caller).
    func stamp(_ editor: inout ConfigEditor, emptyLayer: Bool, defaultCreatedBy: String) throws {
        let now = ConfigEditor.timestamp()
        editor.setCreated(now, author: author)
        editor.appendHistory(ImageConfig.History(created: now, createdBy: createdBy ?? defaultCreatedBy,
                                                 author: author, comment: message, emptyLayer: emptyLayer ? true : nil))
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print an image's raw config (like crane config), or make a new image whose config is changed (no new layer; like docker commit -c without file changes).",
        discussion: """
        Without change flags, prints the config blob of SOURCE exactly as stored (any source: store reference, archive, \
        layout directory, transport, or -). With -c/--env/--label/-m/-a, writes a new image into the store (named NAME, \
        else untagged) whose config is SOURCE's raw JSON with the changes, a history entry (empty_layer) and created/author; \
        its ID is printed.

        Examples:
          ocitool config app:1 | jq .config.Env
          ocitool config -c 'CMD ["/bin/app","--serve"]' --env MODE=prod app:1 app:2
          ocitool config --label org.opencontainers.image.version=1.2 -m "set version" app:1
        """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags
    @OptionGroup var changeOptions: ChangeOptions
    @OptionGroup var platformOption: PlatformOption
    @Argument(help: "Image: store reference, archive, layout directory, transport, or - (stdin).") var ref: String
    @Argument(help: "Name for the new image (default: untagged).") var name: String?

    var hasChanges: Bool {
        !changeOptions.changes.isEmpty || !changeOptions.label.isEmpty || !changeOptions.env.isEmpty
            || changeOptions.message != nil || changeOptions.author != nil || changeOptions.createdBy != nil
    }

    func run() throws {
        let context = try storeOptions.context(registry: registryFlags)
        let source = try TransportReference.source(ref)
        try Streams.checkInput(source)
        guard hasChanges else {
            if name != nil { throw UsageError("a NAME needs changes (-c, --env, --label, -m, -a); without them config prints the config") }
            let reader = try ImageReader(source, context: context)
            defer { reader.close() }
            let image = try reader.image(platform: try platformOption.parsed(), localLayers: false)
            Console.outRaw(image.config.bytes)
            return
        }
        let names = try name.map { [try ImageReference(parsing: $0)] } ?? []
        let changes = try changeOptions.parsed()
        var options = ImageCopy.Options()
        options.operation = "config"
        options.platforms = .one(try platformOption.parsed())
        let changeOptions = self.changeOptions
        options.mutate = { image, _ in
            var mutation = try ImageMutation(base: image)
            mutation.editor.apply(changes)
            try changeOptions.stamp(&mutation.editor, emptyLayer: true,
                                    defaultCreatedBy: "ocitool config " + changeOptions.changes.joined(separator: " "))
            return MutatedImage(image: try mutation.build(names: names))
        }
        let report = try ImageCopy.copy(from: try source.openSource(context), to: try StoreDestination(store: context.store), options: options)
        guard let made = report.entries.first else { throw ImageError.invalid(ref, "no image was made") }
        Console.out(made.id.description)
    }
}
