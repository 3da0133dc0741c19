import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIStore
import OCIImage
import OCITransport

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Show the history of an image, newest first.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags
    @OptionGroup var platformOption: PlatformOption
    @Argument(help: "Image: store reference, archive, layout directory, transport, or - (stdin).")
    var ref: String
    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output.")
    var noTrunc = false
    @Flag(name: .shortAndLong, help: "Only show image IDs.")
    var quiet = false
    @Option(help: "Output format: table or json (one object per line).")
    var format: OutputFormat = .table

    struct Row {
        var id: String
        var created: String?
        var createdBy: String
        var size: Int64
        var comment: String
    }

    func run() throws {
        let reader = try ImageReader(ref, context: try storeOptions.context(registry: registryFlags))
        defer { reader.close() }
        let image = try reader.image(platform: try platformOption.parsed(), localLayers: false)
        let rows = Self.rows(image, id: reader.entries.first?.id ?? image.id)
        if quiet {
            rows.forEach { Console.out(noTrunc ? $0.id : ($0.id == "<missing>" ? $0.id : String($0.id.dropFirst(7).prefix(12)))) }
            return
        }
        switch format {
        case .json:
            for r in rows {
                Console.out(Console.jsonLine([
                    "ID": r.id, "CreatedAt": r.created ?? "", "CreatedSince": HumanUnits.since(r.created),
                    "CreatedBy": r.createdBy, "Size": HumanUnits.size(r.size), "Comment": r.comment,
                ]))
            }
        case .table:
            let body = rows.map { r -> [String] in
                let id = noTrunc || r.id == "<missing>" ? r.id : String(r.id.dropFirst(7).prefix(12))
                var by = r.createdBy
                if !noTrunc && by.count > 45 { by = String(by.prefix(44)) + "…" }
                return [id, HumanUnits.since(r.created), by, HumanUnits.size(r.size), r.comment]
            }
            Console.out(Console.table(["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"], body))
        }
    }

    /// History entries newest first; sizes are the stored layer blob sizes.
    static func rows(_ image: Image, id: Digest) -> [Row] {
        var layers = image.layers.makeIterator()
        var out: [Row] = []
        let history = image.config.view.history ?? []
        for h in history {
            var size: Int64 = 0
            if h.emptyLayer != true, let l = layers.next() { size = l.size }
            out.append(Row(id: "<missing>", created: h.created, createdBy: h.createdBy ?? "", size: size, comment: h.comment ?? ""))
        }
        if history.isEmpty {
            for l in image.layers { out.append(Row(id: "<missing>", created: nil, createdBy: "", size: l.size, comment: "")) }
        }
        out.reverse()
        if !out.isEmpty { out[0].id = id.description }
        return out
    }
}
