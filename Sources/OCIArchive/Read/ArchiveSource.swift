import OCICore
import OCIModel
import OCIImage

/// An image archive or layout directory as a copy source: docker save
/// (classic and Docker 25+), OCI image-layout archives and directories,
/// containers/image `dir:` copies; plain or compressed (gzip, zstd, xz,
/// bzip2, detected from the bytes); a file, a directory or standard input.
///
/// The input is read once: every member is staged in `ReadContext.staging`
/// while its SHA-256 (and, for compressed layers, its diff_id) is computed,
/// blobs the destination already holds are dropped at once, then every
/// image is recognised and verified. `close()` removes the staging files
/// no destination adopted.
public final class ArchiveSource: ImageSource {
    /// What to read.
    public enum Input: Sendable, Equatable {
        /// A file (any compression) or a directory (an OCI layout, an unpacked save).
        case path(String)
        /// Standard input.
        case stdin
    }

    /// Which images of the archive to take.
    public enum Pick: Sendable, Equatable {
        /// Every image.
        case all
        /// The image a reference names: a RepoTag (`name:tag`, normalised
        /// like docker), an OCI `org.opencontainers.image.ref.name` as
        /// written, or an image ID / digest prefix.
        case reference(String)
        /// The N-th image (from 0), in the archive's order.
        case position(Int)
    }

    public let input: Input
    public let pick: Pick
    private var scan: ScannedArchive?

    public init(_ input: Input, pick: Pick = .all) {
        self.input = input
        self.pick = pick
    }

    public var description: String {
        switch input {
        case let .path(p): return p
        case .stdin: return "stdin"
        }
    }

    /// The input's size in bytes, when it is a file.
    public var fileSize: Int64? {
        guard case let .path(p) = input, !FS.isDirectory(p) else { return nil }
        return try? FS.size(p)
    }

    public func read(_ context: ReadContext) throws -> SourceContents {
        let counter = ByteProgress(label: "input", total: fileSize)
        let members: MemberSource
        // Sparse members are returned but never expanded: the scanner passes
        // over them (image archives do not use them) and names one only if an
        // image needs it.
        let limits = TarReader.Limits(sparse: .expand(maxLogicalSize: .max))
        switch input {
        case .stdin: members = try TarReader(fd: 0, name: "stdin", progress: counter, limits: limits)
        case let .path(p): members = try ArchiveMembers.open(p, progress: counter, limits: limits)
        }
        let scan = try ScannedArchive.scan(members, context: context)
        self.scan = scan
        var recognizer = ArchiveRecognizer(scan: scan)
        let all = try recognizer.recognise()
        let entries = try select(all, refNames: recognizer.refNames)
        let bytesRead = counter.done > 0 ? counter.done
            : scan.blobs.values.reduce(0) { $0 + $1.size } + scan.documents.values.reduce(0) { $0 + Int64($1.count) }
        return SourceContents(entries: entries, warnings: recognizer.warnings, recoded: scan.recodedLayers, bytesRead: bytesRead)
    }

    private func select(_ all: [ImageEntry], refNames: [Digest: [String]]) throws -> [ImageEntry] {
        switch pick {
        case .all:
            return all
        case let .position(n):
            guard all.indices.contains(n) else {
                throw ArchiveError.archive(archive: description, message: "the archive holds \(all.count) image(s); @\(n) is out of range")
            }
            return [all[n]]
        case let .reference(ref):
            if let e = all.first(where: { (refNames[$0.digest] ?? []).contains(ref) }) { return [e] }
            do {
                return [try ImageSelector.resolve(ref, in: all, source: description)]
            } catch ImageError.notFound {
                let known = all.flatMap { e in e.names.map(\.familiarString) + (refNames[e.digest] ?? []) }
                throw ArchiveError.archive(archive: description, message: "no image \(ref) in the archive" + (known.isEmpty ? "" : " (it holds: \(known.joined(separator: ", ")))"))
            }
        }
    }

    public func close() {
        scan?.discard()
        scan = nil
    }

    deinit { close() }
}
