import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIStore
import OCIArchive

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

    /// Applies the changes and a history entry to `editor`.
    func apply(to editor: inout ConfigEditor, emptyLayer: Bool, defaultCreatedBy: String) throws {
        editor.apply(try parsed())
        let now = ConfigEditor.timestamp()
        editor.setCreated(now, author: author)
        editor.appendHistory(ImageConfig.History(created: now, createdBy: createdBy ?? defaultCreatedBy,
                                                 author: author, comment: message, emptyLayer: emptyLayer ? true : nil))
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Make a new image whose config is changed (no new layer; like docker commit -c without file changes).")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var changeOptions: ChangeOptions
    @Argument(help: "Base image (store reference).") var ref: String
    @Argument(help: "Name for the new image (default: untagged).") var name: String?

    func run() throws {
        let store = storeOptions.store
        let names = try name.map { [try ImageReference(parsing: $0)] } ?? []
        let base = ImageRecord(stored: try store.resolve(ref), store: store)
        var mutation = try ImageMutation(base: base)
        try changeOptions.apply(to: &mutation.editor, emptyLayer: true,
                                defaultCreatedBy: "ocitool config " + changeOptions.changes.joined(separator: " "))
        let record = try mutation.commit(to: store, names: names)
        Console.out(record.id.description)
    }
}
