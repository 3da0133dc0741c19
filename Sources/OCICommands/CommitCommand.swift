import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIStore
import OCIArchive
import OCIImage
import OCILayer
import OCITransport
#if canImport(Glibc)
import Glibc
#endif

struct CommitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commit",
        abstract: "Make a new image: BASE plus one layer of file-system changes and config changes (like docker commit, without a daemon).",
        discussion: """
        CHANGES is one of --rootfs DIR (a changed copy of BASE's root file system, compared with BASE the way docker \
        does: type, mode, owner, size, mtime, symlink target, xattrs; a deleted path gets .wh.NAME, a directory \
        whose old children are all gone and that holds new ones gets .wh..wh..opq), --upper DIR (an overlayfs upper directory: \
        0/0 character devices and opaque xattrs become whiteouts) or --layer FILE (a ready tar, tar.gz or tar.zst, \
        appended as it is). BASE is a store reference or an archive file / OCI layout directory, used directly \
        (ARCHIVE@N picks the N-th image).

        Without -o the image goes into the store (tagged NAME, or untagged) and its ID is printed. With -o it is \
        written as an archive in BASE's format (or --format) instead, named NAME inside; --store keeps it in the \
        store as well. -o - writes the archive to stdout (the ID then goes to stderr). The layer is deterministic: members in byte order, \
        whiteouts first, numeric owners, PAX headers only where needed; SOURCE_DATE_EPOCH fixes `created`, \
        clamps member mtimes and sets the archive's, so the same inputs give the same bytes.

        Examples:
          ocitool commit --rootfs ./rootfs -m "add app" -c 'CMD ["/app"]' base:1 app:2
          ocitool commit --upper /var/lib/ovl/upper base.tar -o out.tar
          ocitool commit --layer extra.tar.gz base.tar -o - | ocitool load
        """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags
    @OptionGroup var changeOptions: ChangeOptions
    @OptionGroup var union: UnionOptions

    @Option(help: ArgumentHelp("A changed copy of BASE's root file system.", valueName: "dir"))
    var rootfs: String?
    @Option(help: ArgumentHelp("An overlayfs upper directory over BASE.", valueName: "dir"))
    var upper: String?
    @Option(help: ArgumentHelp("A layer tarball (tar, tar.gz, tar.zst) to append as it is.", valueName: "file"))
    var layer: String?

    @Option(help: "Compression of the new layer blob: gzip, zstd or none (default: what BASE's top layer uses; for --layer, the file's own). zstd makes an OCI manifest.")
    var compress: CompressChoice?

    enum CompressChoice: String, ExpressibleByArgument, CaseIterable {
        case gzip, zstd, none
        var value: LayerCompression { LayerCompression(rawValue: rawValue) ?? .gzip }
    }

    @Option(name: .shortAndLong, help: "Write the new image as an archive to this file (- for stdout) instead of the store.")
    var output: String?

    @Option(help: "Archive format for -o: docker (Docker 25+ hybrid) or oci (default: BASE's format).")
    var format: ArchiveWriter.Flavour?

    @Flag(name: .customLong("store"), help: "With -o, also record the image in the store.")
    var alsoStore = false

    @Option(help: "Directory for the spool of an archive BASE and, with -o only, the new blobs (default: $TMPDIR or /tmp).")
    var tmpdir: String?

    @OptionGroup var progressOptions: ProgressOptions

    @Argument(help: "Base image: store reference, archive file, or OCI layout directory.")
    var base: String

    @Argument(help: "Name for the new image (name[:tag]).")
    var name: String?

    func validate() throws {
        let given = [rootfs, upper, layer].compactMap { $0 }
        if given.count != 1 {
            throw ValidationError("give exactly one of --rootfs DIR, --upper DIR or --layer FILE (the changes to commit)")
        }
        if alsoStore && output == nil { throw ValidationError("--store only makes sense with -o (without -o the image goes into the store anyway)") }
        if format != nil && output == nil { throw ValidationError("--format only applies to -o") }
    }

    var source: CommitSource {
        if let rootfs { return .rootfs(rootfs) }
        if let upper { return .upper(upper) }
        return .layer(layer ?? "")
    }

    func run() throws {
        let progress = progressOptions.makeReporter(job: base)
        try progressOptions.run(progress) { try commit(progress) }
    }

    private func commit(_ progress: ProgressScope) throws {
        let names = try name.map { [try ImageReference(parsing: $0)] } ?? []
        if let n = names.first, n.digest != nil { throw ValidationError("the new name cannot be a digest reference") }
        let changes = try changeOptions.parsed()
        let baseRef = try TransportReference.source(base)
        try Streams.checkInput(baseRef)
        let archiveOut: TransportReference? = output.map { .archive(path: $0 == "-" ? nil : $0, format: .auto, detail: nil) }
        if let archiveOut { try Streams.checkOutput(archiveOut) }
        let raw = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"] ?? ""
        let epoch: Int64? = raw.isEmpty ? nil : try ArchiveWriter.Options.sourceDateEpoch()
        let metadata = Commit.Metadata(changes: changes, message: changeOptions.message, author: changeOptions.author,
                                       createdBy: changeOptions.createdBy ?? "ocitool commit", created: ConfigEditor.timestamp())
        let layerOptions = Commit.Options(compression: compress?.value, sourceDateEpoch: epoch, limits: union.limits)
        try Commit.checkSource(source)
        let context = try storeOptions.context(format: format ?? BaseFlavour.of(baseRef), registry: registryFlags)
        let source = self.source

        var options = ImageCopy.Options()
        options.operation = "commit"
        options.platforms = .one(try union.parsedPlatform())
        options.tmpdir = tmpdir
        options.progress = progress
        options.mutate = { image, staging in
            try Commit.mutate(image, source: source, metadata: metadata, options: layerOptions, staging: staging, names: names)
        }
        let id: Digest
        if let archiveOut, !alsoStore {
            let destination = try archiveOut.openDestination(context)
            (destination as? ArchiveDestination)?.ociWhenZstd = format == nil
            id = try Self.onlyID(ImageCopy.copy(from: try baseRef.openSource(context), to: destination, options: options))
        } else {
            id = try Self.onlyID(ImageCopy.copy(from: try baseRef.openSource(context), to: try StoreDestination(store: context.store),
                                                options: options))
            if let archiveOut {
                // Also the archive: the stored image, copied out.
                var out = ImageCopy.Options()
                out.progress = progress
                let destination = try archiveOut.openDestination(context)
                (destination as? ArchiveDestination)?.ociWhenZstd = format == nil
                let selection = StoreSource(store: context.store, selection: .resolve([id.description]))
                try ImageCopy.copy(from: names.isEmpty ? selection : MappedSource(selection) { $0.map { $0.named(names) } },
                                   to: destination, options: out)
            }
        }
        if output == "-" { Console.err(id.description) } else { Console.out(id.description) }
    }

    static func onlyID(_ report: ImageCopy.Report) throws -> Digest {
        guard let e = report.entries.first else { throw ImageError.invalid("commit", "no image was made") }
        return e.id
    }
}

/// The archive flavour a base came in: `docker` when it has a `manifest.json`
/// (docker save, old or Docker 25+), `oci` for an OCI layout only; for a
/// store image or stdin, `docker` (save's default, the Docker 25+ hybrid).
enum BaseFlavour {
    static func of(_ reference: TransportReference) -> ArchiveWriter.Flavour {
        switch reference {
        case .store, .registry: return .docker
        case let .layout(dir, _): return FS.exists(dir + "/manifest.json") ? .docker : .oci
        case let .archive(path, format, _):
            if format == .oci { return .oci }
            guard let path, format == .auto else { return .docker }
            do {
                let reader = try TarReader(path: path)
                while let entry = try reader.next() {
                    if entry.normalizedPath == "manifest.json" { return .docker }
                }
                return .oci
            } catch {
                return .docker
            }
        }
    }
}
