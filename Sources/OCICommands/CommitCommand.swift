import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIStore
import OCIArchive
import OCILayer
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
        """)

    @OptionGroup var storeOptions: StoreOptions
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
        let toStdout = output == "-"
        if toStdout && Console.stdoutIsTerminal {
            throw CommitRefusal("refusing to write an archive to a terminal; redirect stdout or use -o FILE")
        }
        if base == "-" && Console.stdinIsTerminal {
            throw CommitRefusal("BASE - reads an archive from stdin, but stdin is a terminal; pipe an archive in")
        }
        let raw = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"] ?? ""
        let epoch: Int64? = raw.isEmpty ? nil : try ArchiveWriter.Options.sourceDateEpoch()
        let store = storeOptions.store
        let metadata = Commit.Metadata(changes: changes, message: changeOptions.message, author: changeOptions.author,
                                       createdBy: changeOptions.createdBy ?? "ocitool commit", created: ConfigEditor.timestamp())
        let options = Commit.Options(compression: compress?.value, sourceDateEpoch: epoch, limits: union.limits)

        try Commit.checkSource(source)
        let opened = try CommitBase(base, store: store, tmpdir: tmpdir, platform: union.parsedPlatform())
        defer { opened.close() }
        for w in opened.warnings { progress.warning(w) }

        let record: ImageRecord
        if output == nil || alsoStore {
            record = try Commit.commit(opened.record, source: source, metadata: metadata, options: options, into: store, names: names).record
            if output != nil { try writeArchive(record, base: opened, epoch: epoch, progress: progress) }
        } else {
            // Archive only: stage in the store's ingest area for a store base,
            // else in a private directory (the store is not touched).
            var lock: FileLock?
            var scratch: String?
            defer {
                lock?.unlock()
                if let scratch { FS.removeTree(scratch) }
            }
            let staging: BlobStore
            if opened.archive == nil {
                lock = try store.ingestLock()
                staging = store.blobs
            } else {
                let dir = "\(tmpdir ?? SaveCommand.defaultTmpdir)/ocitool-commit-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
                try FS.makeDirectories(dir, mode: 0o700)
                scratch = dir
                staging = BlobStore(root: dir)
            }
            let staged = try Commit.stage(opened.record, source: source, metadata: metadata, options: options, staging: staging, names: names)
            defer { staged.discard() }
            try writeArchive(staged.record, base: opened, epoch: epoch, progress: progress)
            record = staged.record
        }
        if toStdout { Console.err(record.id.description) } else { Console.out(record.id.description) }
    }

    /// Writes `record` to `output` (a temp file renamed at the end, or stdout).
    private func writeArchive(_ record: ImageRecord, base: CommitBase, epoch: Int64?, progress: ProgressScope) throws {
        guard let output else { return }
        var flavour = format ?? base.flavour()
        if format == nil && flavour == .docker && record.manifest.layers.contains(where: { $0.mediaType.hasSuffix("+zstd") }) {
            flavour = .oci
            progress.warning("writing an OCI archive: docker archives cannot hold zstd layers")
        }
        try ArchiveWriter.check([record], flavour: flavour)
        let options = ArchiveWriter.Options(mtime: epoch ?? 0, reporter: progress)
        if output == "-" {
            try ArchiveWriter.write([record], flavour: flavour, to: FileSink(fd: 1, path: "stdout"), name: "stdout", options: options)
            return
        }
        let tmp = "\(output).ocitool-tmp-\(getpid())"
        do {
            let file = try FileSink(creating: tmp, mode: 0o644, exclusive: true)
            try ArchiveWriter.write([record], flavour: flavour, to: SyncingSink(file), name: output, options: options)
            try FS.rename(tmp, output)
        } catch {
            FS.removeFile(tmp)
            throw error
        }
    }
}

/// A refusal printed as one line (no usage text).
private struct CommitRefusal: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// fsyncs the file before closing it, so a renamed archive is complete on disk.
private final class SyncingSink: ByteSink {
    private let file: FileSink
    init(_ file: FileSink) { self.file = file }
    func write(_ bytes: UnsafeRawBufferPointer) throws { try file.write(bytes) }
    func finish() throws {
        try file.sync()
        try file.finish()
    }
}
