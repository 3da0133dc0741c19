import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIStore

struct ImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "List images in the store.")

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "Output format: table or json (one object per line, like docker).")
    var format: OutputFormat = .table
    @Flag(help: "Show repo digests (manifest digests).")
    var digests = false
    @Flag(name: .shortAndLong, help: "Only show image IDs.")
    var quiet = false
    @Flag(name: .customLong("no-trunc"), help: "Show full image IDs.")
    var noTrunc = false

    struct Row {
        var repository: String
        var tag: String
        var image: StoredImage
    }

    func run() throws {
        let images = try storeOptions.store.images()
        var rows: [Row] = []
        for img in images {
            if img.names.isEmpty {
                rows.append(Row(repository: "<none>", tag: "<none>", image: img))
            } else {
                for n in img.names { rows.append(Row(repository: n.familiarName, tag: n.tag ?? "<none>", image: img)) }
            }
        }
        rows.sort { a, b in
            let ca = HumanUnits.parseDate(a.image.config.created) ?? .distantPast
            let cb = HumanUnits.parseDate(b.image.config.created) ?? .distantPast
            if ca != cb { return ca > cb }
            return (a.repository, a.tag) < (b.repository, b.tag)
        }
        func id(_ img: StoredImage) -> String { noTrunc ? img.id.description : img.id.shortID }
        if quiet {
            var seen = Set<String>()
            for r in rows where seen.insert(id(r.image)).inserted { Console.out(id(r.image)) }
            return
        }
        switch format {
        case .json:
            for r in rows {
                Console.out(Console.jsonLine([
                    "Containers": "N/A",
                    "CreatedAt": r.image.config.created ?? "",
                    "CreatedSince": HumanUnits.since(r.image.config.created),
                    "Digest": r.image.manifestDigest.description,
                    "ID": id(r.image),
                    "Repository": r.repository,
                    "Tag": r.tag,
                    "Size": HumanUnits.size(r.image.storedSize),
                ]))
            }
        case .table:
            var header = ["REPOSITORY", "TAG"]
            if digests { header.append("DIGEST") }
            header += ["IMAGE ID", "CREATED", "SIZE"]
            let body = rows.map { r -> [String] in
                var cells = [r.repository, r.tag]
                if digests { cells.append(r.image.manifestDigest.description) }
                cells += [id(r.image), HumanUnits.since(r.image.config.created), HumanUnits.size(r.image.storedSize)]
                return cells
            }
            Console.out(Console.table(header, body))
        }
    }
}
