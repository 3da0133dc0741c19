/// The fixture table of `../shared/corpus/INDEX.md`: one row per fixture
/// (`| \`path\` | writer | format | images | layers | layer compression |
/// size | skopeo | umoci | odd / notes |`).
public struct CorpusIndex: Sendable {
    /// One row of the table.
    public struct Entry: Sendable, Equatable {
        /// Path relative to the corpus folder (a file or a layout directory).
        public var path: String
        /// The "writer (inferred)" column.
        public var writer: String
        /// The "format" column.
        public var format: String
        /// The "layer compression" column (`outer: gzip; …` for compressed archives).
        public var layerCompression: String
        /// The "odd / notes" column.
        public var notes: String

        /// Marked malformed on purpose (`NEGATIVE` in the notes).
        public var isNegative: Bool { notes.contains("NEGATIVE") }

        /// The row says the file is not a tar at all (layer blobs that are
        /// not tars do not count: the outer file is what matters here).
        public var declaresNotTar: Bool {
            format.lowercased().contains("not a tar") || notes.lowercased().hasPrefix("negative: not a tar")
        }
    }

    /// All rows, in table order.
    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    /// Parses the Markdown: every table row whose first cell is a
    /// back-quoted path with at least ten cells is a fixture row.
    public init(markdown: String) {
        var rows: [Entry] = []
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: true) {
            guard line.hasPrefix("| `") else { continue }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false)
                .dropFirst().map { $0.trimmingCharacters(in: " ") }
            guard cells.count >= 10 else { continue }
            let path = cells[0].trimmingCharacters(in: "`")
            rows.append(Entry(path: path, writer: cells[1], format: cells[2],
                              layerCompression: cells[5], notes: cells[9]))
        }
        entries = rows
    }

    /// The row for `path` (relative to the corpus folder), if any.
    public func entry(for path: String) -> Entry? { entries.first { $0.path == path } }

    /// Paths marked NEGATIVE.
    public var negativePaths: Set<String> { Set(entries.filter(\.isNegative).map(\.path)) }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        Substring(self).trimmingCharacters(in: set)
    }
}
