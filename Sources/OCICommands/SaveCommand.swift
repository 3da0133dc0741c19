import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIStore
import OCIArchive
#if canImport(Glibc)
import Glibc
#endif

struct SaveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "save",
        abstract: "Write images to an archive (Docker 25+ hybrid by default, or an OCI layout), from the store or straight from another archive.",
        discussion: """
        The archive goes to standard output unless -o is given; stdout then carries archive bytes only. \
        With -o the archive is written to a temporary file next to FILE and renamed at the end, so a failed save \
        leaves no partial file. Blobs are copied byte for byte; layers are re-encoded only with --compress \
        (into the store's ingest area, or --tmpdir), never in memory. The same images give the same bytes \
        (member mtimes: SOURCE_DATE_EPOCH, else 0).
        """)

    @OptionGroup var storeOptions: StoreOptions

    @Option(name: .shortAndLong, help: "Write the archive to this file instead of stdout.")
    var output: String?

    @Option(help: "Archive format: docker (Docker 25+ hybrid: OCI layout + manifest.json) or oci (OCI layout only).")
    var format: ArchiveWriter.Flavour = .docker

    @Option(help: "The platform the images must be for, os/arch[/variant]; with --from, the one to pick from a multi-platform archive.")
    var platform: String?

    @Option(help: "Layer compression: keep, gzip, zstd or none. Only layers in another compression are re-encoded; diff_ids and the config stay, the manifest is rewritten.")
    var compress: CompressChoice = .keep

    @Option(name: .customLong("from"), help: "Read the images from this archive file, OCI layout directory, or - (stdin) instead of the store.")
    var from: String?

    @Option(help: "Directory for the --from spool and re-encoded layers (default: $TMPDIR or /tmp).")
    var tmpdir: String?

    @OptionGroup var progressOptions: ProgressOptions

    @Argument(help: "Images: name[:tag], name (all its tags), image ID, or name@digest. With --from, default: every image of the archive.")
    var refs: [String] = []

    enum CompressChoice: String, ExpressibleByArgument, CaseIterable {
        case keep, gzip, zstd, none

        var target: LayerCompression? {
            switch self {
            case .keep: return nil
            case .gzip: return .gzip
            case .zstd: return .zstd
            case .none: return LayerCompression.none
            }
        }
    }

    func validate() throws {
        if refs.isEmpty && from == nil { throw ValidationError("name at least one image to save, or give --from ARCHIVE") }
        if format == .docker && compress == .zstd {
            throw ValidationError("--compress zstd needs --format oci: docker archives do not carry zstd layers (older docker load takes only tar or gzip)")
        }
    }

    func run() throws {
        let renderer = progressOptions.makeRenderer()
        defer { renderer.close() }
        let progress = renderer.scope(job: from ?? refs.joined(separator: " "))
        try progressOptions.run(progress) { try save(progress) }
    }

    private func save(_ progress: ProgressScope) throws {
        let started = Date()
        let toStdout = output == nil || output == "-"
        if toStdout && Console.stdoutIsTerminal {
            throw SaveRefusal("refusing to write an archive to a terminal; redirect stdout or use -o FILE")
        }
        if from == "-" && Console.stdinIsTerminal {
            throw SaveRefusal("--from - reads an archive from stdin, but stdin is a terminal; pipe an archive in")
        }
        let wanted = try platform.map { try Platform(parsing: $0) }
        let mtime = try ArchiveWriter.Options.sourceDateEpoch()

        // Ctrl-C or kill removes the partial archive and the scratch directory.
        let cleanup = InterruptCleanup()
        defer { cleanup.disarm() }
        // Scratch (--from spool, re-encoded layers): a private directory under
        // --tmpdir; for store images without --tmpdir, the store's ingest area.
        var scratchRoot: String?
        defer { if let scratchRoot { FS.removeTree(scratchRoot) } }
        if from != nil || tmpdir != nil {
            let dir = try Self.scratchDirectory(in: tmpdir ?? Self.defaultTmpdir)
            scratchRoot = dir
            cleanup.add(dir)
        }

        var spool: SpooledArchive?
        var storeLock: FileLock?
        defer {
            spool?.close()
            storeLock?.unlock()
        }
        var records: [ImageRecord]
        let staging: BlobStore
        if let from, let scratchRoot {
            let s = try SpooledArchive(path: from, tmpdir: scratchRoot, platform: wanted, reporter: progress)
            spool = s
            for w in s.warnings { progress.warning(w) }
            records = refs.isEmpty ? s.records : try ImageSelector.select(refs, from: s.records, source: from == "-" ? "stdin" : from)
            staging = BlobStore(root: scratchRoot)
        } else {
            let store = storeOptions.store
            // Keeps `prune` from removing blobs (and our staging files) while we read.
            if FS.exists(store.root + "/index.json") { storeLock = try store.ingestLock() }
            records = try ImageSelector.select(refs, from: ImageSelector.records(in: store), source: "the store")
            if let wanted { try ImageSelector.check(records, platform: wanted) }
            staging = scratchRoot.map { BlobStore(root: $0) } ?? store.blobs
        }

        var recoder: LayerRecoder?
        defer { recoder?.discard() }
        if let target = compress.target {
            let r = LayerRecoder(target: target, staging: staging)
            r.onStagingFile = { cleanup.add($0) }
            recoder = r
            records = try r.recode(records)
        }
        // Refuse before creating any output.
        try ArchiveWriter.check(records, flavour: format)

        progress.start(operation: "save", source: from ?? "the store", destination: toStdout ? "stdout" : output,
                       totalBytes: ArchiveWriter.blobBytes(records))
        let options = ArchiveWriter.Options(mtime: mtime, reporter: progress)
        func done(_ summary: ArchiveWriter.Summary) {
            progress.done(DoneReport(images: summary.written, bytesIn: ArchiveWriter.blobBytes(records), bytesOut: summary.bytes,
                                     seconds: Date().timeIntervalSince(started), destination: toStdout ? "stdout" : output))
        }
        guard let output, output != "-" else {
            done(try ArchiveWriter.write(records, flavour: format, to: BufferedSink(FileSink(fd: 1, path: "stdout")), name: "stdout", options: options))
            return
        }
        // Written next to FILE and renamed at the end: a failed save leaves no partial file.
        let tmp = "\(output).ocitool-tmp-\(getpid())"
        cleanup.add(tmp)
        do {
            let sink = BufferedSink(try DurableFileSink(creating: tmp))
            let summary = try ArchiveWriter.write(records, flavour: format, to: sink, name: output, options: options)
            try FS.rename(tmp, output)
            done(summary)
        } catch {
            FS.removeFile(tmp)
            throw error
        }
    }

    static var defaultTmpdir: String {
        let t = ProcessInfo.processInfo.environment["TMPDIR"] ?? ""
        return t.isEmpty ? "/tmp" : t
    }

    /// Creates a private directory under `base` for staged blobs.
    static func scratchDirectory(in base: String) throws -> String {
        let dir = "\(base)/ocitool-save-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try FS.makeDirectories(dir, mode: 0o700)
        return dir
    }
}

extension ArchiveWriter.Flavour: ExpressibleByArgument {}

/// Removes the paths it was given and exits when SIGINT, SIGTERM, SIGHUP or SIGPIPE (a reader of stdout went away)
/// arrives, until `disarm()` restores the default handling.
final class InterruptCleanup: @unchecked Sendable {
    private static let signals = [SIGINT, SIGTERM, SIGHUP, SIGPIPE]
    private let lock = NSLock()
    private var paths: [String] = []
    private var sources: [DispatchSourceSignal] = []

    init() {
        for sig in Self.signals {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                for p in lock.withLock({ paths }) { FS.removeTree(p) }
                _exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }

    func add(_ path: String) { lock.withLock { paths.append(path) } }

    func disarm() {
        sources.forEach { $0.cancel() }
        sources = []
        for sig in Self.signals { signal(sig, SIG_DFL) }
    }
}

/// A refusal printed as one line (no usage text).
struct SaveRefusal: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// A file sink that fsyncs before closing, so a renamed archive is complete on disk.
final class DurableFileSink: ByteSink {
    private let file: FileSink

    init(creating path: String) throws {
        file = try FileSink(creating: path, mode: 0o644, exclusive: true)
        // Write-back starts as the archive is written, so the final fsync is short.
        file.writeBehind = true
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws { try file.write(bytes) }

    func finish() throws {
        try file.sync()
        try file.finish()
    }
}
