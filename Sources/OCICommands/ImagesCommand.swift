import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIImage
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

    /// One line of the listing: one name of an entry (or `<none>`).
    struct Row {
        var repository: String
        var tag: String
        var entry: ImageEntry
        /// The image shown for an index: this machine's platform, else the first.
        var image: Image?
    }

    func run() throws {
        let entries = try storeOptions.store.entries()
        var rows: [Row] = []
        for e in entries {
            let shown = Self.representative(e)
            if e.names.isEmpty {
                rows.append(Row(repository: "<none>", tag: "<none>", entry: e, image: shown))
            } else {
                for n in e.names { rows.append(Row(repository: n.familiarName, tag: n.tag ?? "<none>", entry: e, image: shown)) }
            }
        }
        rows.sort { a, b in
            let ca = HumanUnits.parseDate(a.image?.config.view.created) ?? .distantPast
            let cb = HumanUnits.parseDate(b.image?.config.view.created) ?? .distantPast
            if ca != cb { return ca > cb }
            return (a.repository, a.tag) < (b.repository, b.tag)
        }
        func id(_ e: ImageEntry) -> String { noTrunc ? e.id.description : e.id.shortID }
        if quiet {
            var seen = Set<String>()
            for r in rows where seen.insert(id(r.entry)).inserted { Console.out(id(r.entry)) }
            return
        }
        switch format {
        case .json:
            for r in rows {
                Console.out(Console.jsonLine([
                    "Containers": "N/A",
                    "CreatedAt": r.image?.config.view.created ?? "",
                    "CreatedSince": HumanUnits.since(r.image?.config.view.created),
                    "Digest": r.entry.digest.description,
                    "ID": id(r.entry),
                    "Repository": r.repository,
                    "Tag": r.tag,
                    "Size": HumanUnits.size(Self.size(r.entry)),
                ]))
            }
        case .table:
            var header = ["REPOSITORY", "TAG"]
            if digests { header.append("DIGEST") }
            header += ["IMAGE ID", "CREATED", "SIZE"]
            let body = rows.map { r -> [String] in
                var cells = [r.repository, r.tag]
                if digests { cells.append(r.entry.digest.description) }
                cells += [id(r.entry), HumanUnits.since(r.image?.config.view.created), HumanUnits.size(Self.size(r.entry))]
                return cells
            }
            Console.out(Console.table(header, body))
        }
    }

    /// The image a listing shows for an entry.
    static func representative(_ e: ImageEntry) -> Image? {
        switch e {
        case let .image(i): return i
        case let .index(x):
            return x.platformImages.first { ($0.platform ?? Platform.host).matches(Platform.host) } ?? x.platformImages.first
        }
    }

    /// Stored size: config and layers (of every platform for an index, each blob once).
    static func size(_ e: ImageEntry) -> Int64 {
        var seen = Set<Digest>()
        var total: Int64 = 0
        for i in e.images {
            for d in [i.manifest.view.config] + i.layers where seen.insert(d.digest).inserted { total += d.size }
        }
        return total
    }
}
