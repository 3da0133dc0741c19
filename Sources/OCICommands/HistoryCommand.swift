import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIStore
import OCIImage
import OCITransport
import OCIFormat

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show the history of an image, newest first (docker history).",
        discussion: """
        One row per history entry of the config (empty-layer entries included); the top row carries the image ID, the \
        others <missing>, as docker prints images it did not build. SIZE is the layer's uncompressed size. --format takes \
        table, table TEMPLATE, json or a Go template with the fields ID, CreatedSince, CreatedAt, CreatedBy, Size, Comment. \
        -H=false (or --no-human) prints RFC 3339 times and sizes in bytes. A multi-platform image shows this machine's \
        platform unless --platform names another.

        Examples:
          ocitool history busybox
          ocitool history --no-trunc --format '{{.CreatedBy}}' app:1
          ocitool history -H=false --format 'table {{.CreatedAt}}\\t{{.Size}}' app:1
          ocitool history --platform linux/arm64 multi.tar
        """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags
    @OptionGroup var platformOption: PlatformOption
    @Argument(help: "Image: store reference, archive, layout directory, transport, or - (stdin).",
              completion: .custom(CompletionSupport.imagesAndFiles))
    var ref: String
    @Option(help: ArgumentHelp("Output: table, table TEMPLATE, json, or a Go template.", valueName: "string"))
    var format: String?
    @Flag(name: [.customShort("H"), .long], inversion: .prefixedNo,
          help: "Print sizes and dates in human readable format (-H=false: RFC 3339 times, sizes in bytes).")
    var human = true
    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output.")
    var noTrunc = false
    @Flag(name: .shortAndLong, help: "Only show image IDs.")
    var quiet = false

    func run() throws {
        var text = format
        if text == "{{json .}}" { text = "json" }
        if text == nil || text == "" || text == "table" {
            text = quiet ? "{{.ID}}" : human ? nil : HistoryRow.nonHumanTable
        }
        let table: DockerTable
        do {
            var options = TemplateOptions()
            options.jsonEscapesHTML = DockerFormat(text) == .json
            table = try DockerTable(format: text, defaultTable: HistoryRow.defaultTable, headers: HistoryRow.headers, options: options)
        } catch let e as TemplateError {
            throw UsageError("template parsing error: \(e)")
        }
        let context = try storeOptions.context(registry: registryFlags)
        let reader = try ImageReader(ref, context: context)
        defer { reader.close() }
        let image = try reader.image(platform: try platformOption.parsed(), localLayers: false)
        let sizes = try LayerSizes.of(image, store: context.store)
        let rows = Self.rows(image, id: reader.entries.first?.id ?? image.id, sizes: sizes)
        let values = rows.map { $0.value(human: human, trunc: !noTrunc) }
        Console.outRaw(Array(try ImagesCommand.render(table, values).utf8))
    }

    /// History entries newest first; a layer's size is its uncompressed size when known, else as stored.
    static func rows(_ image: Image, id: Digest, sizes: [Digest: Int64]) -> [HistoryRow] {
        var layers = image.layers.makeIterator()
        var out: [HistoryRow] = []
        let history = image.config.view.history ?? []
        for h in history {
            var size: Int64 = 0
            if h.emptyLayer != true, let l = layers.next() { size = sizes[l.digest] ?? l.size }
            out.append(HistoryRow(id: "<missing>", created: HumanUnits.createdDate(h.created), createdBy: h.createdBy ?? "",
                                  size: size, comment: h.comment ?? ""))
        }
        if history.isEmpty {
            for l in image.layers {
                out.append(HistoryRow(id: "<missing>", created: Date(timeIntervalSince1970: 0), createdBy: "",
                                      size: sizes[l.digest] ?? l.size, comment: ""))
            }
        }
        out.reverse()
        if !out.isEmpty { out[0].id = id.description }
        return out
    }
}

/// One row of `history`, with the fields of docker's `historyContext`.
struct HistoryRow {
    static let defaultTable = "table {{.ID}}\\t{{.CreatedSince}}\\t{{.CreatedBy}}\\t{{.Size}}\\t{{.Comment}}"
    static let nonHumanTable = "table {{.ID}}\\t{{.CreatedAt}}\\t{{.CreatedBy}}\\t{{.Size}}\\t{{.Comment}}"
    static let headers: [String: String] = [
        "ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "CreatedBy": "CREATED BY",
        "Size": "SIZE", "Comment": "COMMENT",
    ]

    var id: String
    var created: Date
    var createdBy: String
    var size: Int64
    var comment: String

    /// docker's `TruncateID`: the part after `:`, at most 12 characters.
    static func truncateID(_ id: String) -> String {
        let bare = id.firstIndex(of: ":").map { String(id[id.index(after: $0)...]) } ?? id
        return String(bare.prefix(12))
    }

    /// The row; fields in sorted order (docker's JSON key order).
    func value(human: Bool, trunc: Bool, now: Date = Date()) -> TemplateValue {
        let createdAt = DockerUnits.rfc3339(created)
        let by = createdBy.replacingOccurrences(of: "\t", with: " ")
        return .structure("*formatter.historyContext", [
            ("Comment", .string(comment)),
            ("CreatedAt", .string(createdAt)),
            ("CreatedBy", .string(trunc ? HumanUnits.ellipsis(by, 45) : by)),
            ("CreatedSince", .string(human ? DockerUnits.createdSince(created, now: now) : createdAt)),
            ("ID", .string(trunc ? Self.truncateID(id) : id)),
            ("Size", .string(human ? DockerUnits.humanSize(Double(size), precision: 3) : String(size))),
        ])
    }
}

/// Uncompressed layer sizes for the read verbs: from the store's cache for
/// store images, else measured from the source's local blobs (an archive's
/// spool); layers only reachable remotely are left out.
enum LayerSizes {
    static func of(_ image: Image, store: ImageStore) throws -> [Digest: Int64] {
        if let blobs = image.blobs as? BlobStore, blobs.root == store.root {
            return try store.uncompressedSizes(of: image.layers.map(\.digest))
        }
        var out: [Digest: Int64] = [:]
        for l in image.layers where out[l.digest] == nil {
            if let n = try LayerSize.measure(l.digest, in: image.blobs) { out[l.digest] = n }
        }
        return out
    }
}
