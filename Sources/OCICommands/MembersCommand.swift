import ArgumentParser
import OCICore
import OCIArchive

struct MembersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "members",
        abstract: "List the members of an archive with type, size and SHA-256 (streamed; any compression).",
        discussion: """
            One line per member, printed as it is read (fixed column widths, \
            nothing held in memory). Sparse members are listed as `sparse` with \
            their logical size and no digest: their holes are never read.

            Examples:
              ocitool members TestImages/podman-oci.tar
              docker save app | ocitool members -
            """)

    @Argument(help: "Archive file, OCI layout directory, or - for stdin.", completion: .file()) var path: String = "-"

    /// Column widths: the longest kind name, the longest Int64, `sha256:` + 64.
    static let widths = [15, 19, 71]

    func run() throws {
        let source = try ArchiveMembers.open(path)
        // Listing never expands holes, so any logical size can be shown;
        // every other per-member bound of the reader stays.
        (source as? TarReader)?.limits.sparse = .expand(maxLogicalSize: .max)
        let out = RowPrinter(sink: FileSink(fd: 1, path: "stdout"))
        try out.print(Self.row(["TYPE", "SIZE", "SHA256", "PATH"]))
        do {
            try list(source, out)
        } catch {
            try? out.flush()  // the rows read before the error
            throw error
        }
        try out.flush()
    }

    private func list(_ source: MemberSource, _ out: RowPrinter) throws {
        while let e = try source.next() {
            var kind = e.kind.rawValue
            var size = "-"
            var digest = "-"
            if e.kind == .regular {
                size = String(e.size)
                if e.isSparse {
                    kind = "sparse"
                    try (source as? TarReader)?.skipData()
                } else {
                    let sink = DigestingSink()
                    let n = try source.readData(into: sink)
                    digest = try sink.digest().description
                    size = String(n)
                    if n >= 1 << 20 { try out.flush() }  // do not hold earlier rows behind a long read
                }
            }
            let name = TarEntry.printable(e.path) + (e.linkTarget.map { " -> " + TarEntry.printable($0) } ?? "")
            try out.print(Self.row([kind, size, digest, name]))
        }
    }

    static func row(_ cells: [String]) -> String {
        var line = ""
        for (i, cell) in cells.enumerated() {
            line += cell
            if i < widths.count { line += String(repeating: " ", count: max(1, widths[i] - cell.count + 3)) }
        }
        return line
    }
}

/// Lines to stdout, buffered up to 64 KiB (one system call per buffer, not per line).
private final class RowPrinter {
    private let sink: FileSink
    private var buffer: [UInt8] = []

    init(sink: FileSink) { self.sink = sink }

    func print(_ line: String) throws {
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0a)
        if buffer.count >= 64 << 10 { try flush() }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        defer { buffer.removeAll(keepingCapacity: true) }
        try sink.write(contentsOf: buffer)
    }
}
