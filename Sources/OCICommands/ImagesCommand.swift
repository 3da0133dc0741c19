import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIImage
import OCIStore
import OCIFormat

struct ImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "List images in the store (docker image ls).",
        discussion: """
        Rows and columns are docker's: one row per name (untagged images as <none> <none>), newest first; SIZE is the \
        uncompressed size (the layers' decompressed tar streams, computed once per layer and cached in the store); \
        {{.StoredSize}} is the size as stored. --format takes table, table TEMPLATE, json or a Go template with the \
        fields ID, Repository, Tag, Digest, CreatedSince, CreatedAt, Size, VirtualSize, SharedSize, UniqueSize, \
        Containers, StoredSize. --filter takes dangling=true|false, reference=PATTERN, before=IMAGE, since=IMAGE, \
        label=KEY[=VALUE], until=TIMESTAMP.

        Examples:
          ocitool images
          ocitool images --format '{{.Repository}}:{{.Tag}}' busybox
          ocitool images --filter dangling=true -q
          ocitool image ls --format 'table {{.ID}}\\t{{.Size}}\\t{{.StoredSize}}' --filter 'reference=localhost/*'
        """)

    @OptionGroup var storeOptions: StoreOptions
    @Flag(name: .shortAndLong, help: "Show all images (accepted for docker; there are no intermediate images).")
    var all = false
    @Flag(help: "Show digests.")
    var digests = false
    @Option(name: [.short, .customLong("filter")], help: ArgumentHelp("Filter output (dangling, reference, before, since, label, until).", valueName: "filter"))
    var filters: [String] = []
    @Option(help: ArgumentHelp("Output: table, table TEMPLATE, json, or a Go template.", valueName: "string"))
    var format: String?
    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output.")
    var noTrunc = false
    @Flag(name: .shortAndLong, help: "Only show image IDs.")
    var quiet = false
    @Argument(help: ArgumentHelp("Only images of this repository (a reference pattern).", valueName: "REPOSITORY[:TAG]"),
              completion: .custom(CompletionSupport.imageNames))
    var repository: String?

    func run() throws {
        var filterArgs = filters
        if let repository { filterArgs.append("reference=" + repository) }
        let filter = try ImageFilters(filterArgs, accepted: ["dangling", "reference", "before", "since", "label", "until"])
        let store = storeOptions.store
        let listing = try ImageListing(entries: try store.entries(), filter: filter)
        let table = try Self.table(format: format, quiet: quiet, digests: digests)
        let needDigest = digests || table.format.mentions("{{.Digest}}")
        let rows = try listing.rows(needDigest: needDigest, showDigestRows: digests, noTrunc: noTrunc,
                                    sizes: try store.uncompressedSizes(of: listing.layerDigests),
                                    forJSON: table.format == .json)
        var options = table.options
        options.jsonEscapesHTML = table.format == .json
        let out = try Self.render(DockerTable(format: table.text, defaultTable: ImageRow.defaultTable, headers: ImageRow.headers,
                                              options: options), rows)
        Console.outRaw(Array(out.utf8))
    }

    /// The `--format` docker's `NewImageFormat` would use.
    static func table(format: String?, quiet: Bool, digests: Bool) throws -> (format: DockerFormat, text: String?, options: TemplateOptions) {
        var text = format
        if text == "{{json .}}" { text = "json" }
        if text == nil || text == "" || text == "table" {
            text = quiet ? "{{.ID}}" : digests ? ImageRow.defaultTableWithDigest : nil
        } else if DockerFormat(text).isTable && digests, let t = text, !t.contains("{{.Digest}}") {
            text = t + "\\t{{.Digest}}"
        }
        return (DockerFormat(text), text, TemplateOptions())
    }

    /// Renders rows, turning template errors into usage errors as docker does.
    static func render(_ table: @autoclosure () throws -> DockerTable, _ rows: [TemplateValue]) throws -> String {
        do {
            return try table().render(rows)
        } catch let e as TemplateError {
            throw UsageError("template parsing error: \(e)")
        }
    }
}

extension DockerFormat {
    /// Does the format's text contain `s`?
    func mentions(_ s: String) -> Bool {
        switch self {
        case .defaultTable, .json: return false
        case let .table(t), let .template(t): return t.contains(s)
        }
    }
}

/// The images a listing shows, filtered as docker's daemon filters them.
struct ImageListing {
    struct Item {
        var entry: ImageEntry
        /// The image whose config the row shows (an index: this machine's platform, else the first).
        var image: Image?
        /// The names shown (all, or those passing `reference=`); empty for an untagged entry.
        var names: [ImageReference]
        var created: Date
    }

    let items: [Item]

    init(entries: [ImageEntry], filter: ImageFilters) throws {
        let dated = entries.map { e -> (ImageEntry, Image?, Date) in
            let shown = Self.representative(e)
            return (e, shown, HumanUnits.createdDate(shown?.config.view.created))
        }
        func created(of ref: String, key: String) throws -> Date {
            do {
                let e = try ImageSelector.resolve(ref, in: entries, source: "the store")
                return dated.first { $0.0.digest == e.digest }?.2 ?? Date(timeIntervalSince1970: 0)
            } catch {
                throw UsageError("invalid filter '\(key)=\(ref)': No such image: \(ref)")
            }
        }
        let before = try filter.values["before"].map { try $0.map { try created(of: $0, key: "before") }.min() ?? .distantFuture }
        let since = try filter.values["since"].map { try $0.map { try created(of: $0, key: "since") }.max() ?? .distantPast }
        let until = try filter.until()
        var out: [Item] = []
        for (entry, image, date) in dated {
            if let before, !(date < before) { continue }
            if let since, !(date > since) { continue }
            if let until, !(date < until) { continue }
            if filter.contains("label") || filter.contains("label!") {
                guard filter.matchesLabels(Self.labels(image)) else { continue }
            }
            let names = entry.names.filter(filter.matchesReference)
            if names.isEmpty {
                // Untagged, or no name passed the reference filter.
                if filter.dangling == false || filter.contains("reference") || !entry.names.isEmpty { continue }
            } else if filter.dangling == true {
                continue
            }
            out.append(Item(entry: entry, image: image, names: names, created: date))
        }
        items = out
    }

    /// Every layer digest of the listed entries (all platforms), once.
    var layerDigests: [Digest] {
        var seen = Set<Digest>()
        return items.flatMap { $0.entry.images.flatMap(\.layers).map(\.digest) }.filter { seen.insert($0).inserted }
    }

    /// docker's rows: per repository its tags (× digests when shown), then
    /// digest-only names; newest image first, then by repository and tag.
    func rows(needDigest: Bool, showDigestRows: Bool, noTrunc: Bool, sizes: [Digest: Int64], forJSON: Bool) throws -> [TemplateValue] {
        var rows: [(Date, String, String, TemplateValue)] = []
        for item in items {
            let size = Self.uncompressedSize(item.entry, sizes: sizes)
            let stored = Self.storedSize(item.entry)
            func add(_ repository: String, _ tag: String, _ digest: String) {
                let row = ImageRow(id: item.entry.id, repository: repository, tag: tag, digest: digest, created: item.created,
                                   size: size, storedSize: stored, noTrunc: noTrunc)
                rows.append((item.created, repository, tag, row.value(includeExtensions: !forJSON)))
            }
            if item.names.isEmpty {
                add("<none>", "<none>", "<none>")
                continue
            }
            var repos: [String] = []
            var tags: [String: [String]] = [:]
            var digests: [String: [String]] = [:]
            for n in item.names {
                let repo = n.familiarName
                if !repos.contains(repo) { repos.append(repo) }
                if let t = n.tag, n.digest == nil { tags[repo, default: []].append(t) }
                let d = (n.digest ?? item.entry.digest).description
                if !(digests[repo]?.contains(d) ?? false) { digests[repo, default: []].append(d) }
            }
            for repo in repos {
                if let ts = tags[repo] {
                    for t in ts {
                        if needDigest { for d in digests[repo] ?? [] { add(repo, t, d) } } else { add(repo, t, "<none>") }
                    }
                } else if showDigestRows {
                    for d in digests[repo] ?? [] { add(repo, "<none>", d) }
                } else {
                    add(repo, "<none>", "")
                }
            }
        }
        rows.sort { a, b in
            if a.0 != b.0 { return a.0 > b.0 }
            if a.1 != b.1 { return a.1 < b.1 }
            return a.2 < b.2
        }
        return rows.map(\.3)
    }

    /// The image a listing shows for an entry.
    static func representative(_ e: ImageEntry) -> Image? {
        switch e {
        case let .image(i): return i
        case let .index(x):
            return x.platformImages.first { ($0.platform ?? Platform.host).matches(Platform.host) } ?? x.platformImages.first
        }
    }

    static func labels(_ image: Image?) -> [String: String] {
        guard let image, let raw = try? InspectDocument.object(image.config.bytes, what: "config"),
              let config = raw["config"].flatMap(InspectDocument.entries),
              let labels = InspectDocument.lookup(config, "Labels").flatMap(InspectDocument.entries) else { return [:] }
        return labels.compactMapValues(\.stringValue)
    }

    /// Uncompressed size: every layer of every platform, each once.
    static func uncompressedSize(_ e: ImageEntry, sizes: [Digest: Int64]) -> Int64 {
        var seen = Set<Digest>()
        var total: Int64 = 0
        for i in e.images { for l in i.layers where seen.insert(l.digest).inserted { total += sizes[l.digest] ?? l.size } }
        return total
    }

    /// Stored size: config and layers as stored (of every platform, each blob once).
    static func storedSize(_ e: ImageEntry) -> Int64 {
        var seen = Set<Digest>()
        var total: Int64 = 0
        for i in e.images {
            for d in [i.manifest.view.config] + i.layers where seen.insert(d.digest).inserted { total += d.size }
        }
        return total
    }
}

/// One row of `images`, with the fields of docker's `imageContext`.
struct ImageRow {
    static let defaultTable = "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\\t{{.Size}}"
    static let defaultTableWithDigest = "table {{.Repository}}\\t{{.Tag}}\\t{{.Digest}}\\t{{.ID}}\\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\\t{{.Size}}"
    static let headers: [String: String] = [
        "ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST", "CreatedSince": "CREATED",
        "CreatedAt": "CREATED AT", "Size": "SIZE", "Containers": "CONTAINERS", "VirtualSize": "SIZE",
        "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE", "StoredSize": "STORED SIZE",
    ]

    var id: Digest
    var repository: String
    var tag: String
    var digest: String
    var created: Date
    var size: Int64
    var storedSize: Int64
    var noTrunc: Bool

    /// The row; fields in docker's JSON key order (sorted), ocitool's
    /// `StoredSize` only where docker's JSON keys are not the output.
    func value(includeExtensions: Bool, now: Date = Date()) -> TemplateValue {
        var fields: [(String, TemplateValue)] = [
            ("Containers", "N/A"),
            ("CreatedAt", .string(DockerUnits.createdAt(created))),
            ("CreatedSince", .string(DockerUnits.createdSince(created, now: now))),
            ("Digest", .string(digest)),
            ("ID", .string(noTrunc ? id.description : id.shortID)),
            ("Repository", .string(repository)),
            ("SharedSize", "N/A"),
            ("Size", .string(DockerUnits.humanSize(Double(size), precision: 3))),
        ]
        if includeExtensions { fields.append(("StoredSize", .string(DockerUnits.humanSize(Double(storedSize), precision: 3)))) }
        fields += [
            ("Tag", .string(tag)),
            ("UniqueSize", "N/A"),
            ("VirtualSize", .string(DockerUnits.humanSize(Double(size), precision: 4))),
        ]
        return .structure("*formatter.imageContext", fields)
    }
}
