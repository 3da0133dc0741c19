import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIArchive
import OCIImage
import OCIStore
import OCITransport
#if canImport(Glibc)
import Glibc
#endif

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert image archives (format, layer compression, platforms) without a store.",
        discussion: """
        Reads any archive `load` reads (docker save, Docker 25+, OCI; plain, gzip, zstd, xz, bzip2), an OCI layout \
        directory, or stdin, and writes a docker (Docker 25+ hybrid) or OCI archive to -o FILE or stdout. \
        Layers that change compression are re-encoded while they are read and spooled once, under --tmpdir; \
        other blobs are spooled once as read. Nothing is written before every image has been checked, and -o \
        writes a temporary file renamed at the end. With --output-dir, each IN becomes DIR/<name>.tar, --jobs at a time.

        Examples:
          ocitool convert app.tar --format oci --compress zstd -o app-oci.tar
          docker save app | ocitool convert --format oci | ssh host 'ocitool load'
          ocitool convert --output-dir out/ --jobs 2 --format oci a.tar b.tar
        """)

    @Argument(help: "Input archive file, OCI layout directory, or - for stdin (default). Several with --output-dir.", completion: .file())
    var inputs: [String] = []

    @Option(name: .shortAndLong, help: "Write the archive to this file instead of stdout.")
    var output: String?

    @Option(name: .customLong("output-dir"), help: "Convert every input into this directory, named after the input.")
    var outputDirectory: String?

    @Option(help: "With --output-dir: conversions at a time (default: number of cores).")
    var jobs: Int?

    @Option(help: "Archive format: docker (Docker 25+ hybrid: OCI layout + manifest.json) or oci (OCI layout only).")
    var format: ArchiveWriter.Flavour

    @Option(help: "Layer compression: keep, gzip, zstd or none. diff_ids and the config stay; manifests are rewritten.")
    var compress: CompressChoice = .keep

    @Option(help: "Layer compression level: gzip 1-9 (1, the default, is ISA-L; 2-9 zlib), zstd 1-19 (default 3).")
    var level: Int?

    @Option(help: "Compress the whole output stream: none, gzip or zstd.")
    var outputCompression: OutputCompression = .none

    @Option(help: "Compression threads per conversion (default: cores, divided among --jobs).")
    var threads: Int?

    @Option(help: "The platform to keep from a multi-platform input, os/arch[/variant] (default: this machine's, or the only one present).")
    var platform: String?

    @Flag(help: "Keep every platform present: one image index per multi-platform image, without the platforms whose blobs are absent.")
    var allPlatforms = false

    @Option(help: "Directory for spooled blobs (default: $TMPDIR or /tmp).")
    var tmpdir: String?

    @OptionGroup var progressOptions: ProgressOptions
    @OptionGroup var registryFlags: RegistryFlags

    enum OutputCompression: String, ExpressibleByArgument, CaseIterable {
        case none, gzip, zstd
        var value: Compression { self == .gzip ? .gzip : self == .zstd ? .zstd : .none }
    }

    func validate() throws {
        if format == .docker && compress == .zstd {
            throw ValidationError("--compress zstd needs --format oci: docker archives do not carry zstd layers (older docker load takes only tar or gzip)")
        }
        if platform != nil && allPlatforms { throw ValidationError("give --platform or --all-platforms, not both") }
        if let level {
            switch compress {
            case .gzip: guard (1...9).contains(level) else { throw ValidationError("--level for gzip is 1-9") }
            case .zstd: guard (1...19).contains(level) else { throw ValidationError("--level for zstd is 1-19") }
            case .keep, .none: throw ValidationError("--level needs --compress gzip or zstd")
            }
        }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if outputDirectory != nil {
            if inputs.isEmpty { throw ValidationError("--output-dir needs at least one input archive") }
            if output != nil { throw ValidationError("give -o or --output-dir, not both") }
            if inputs.contains("-") { throw ValidationError("stdin (-) cannot be converted with --output-dir; use -o") }
        } else {
            if inputs.count > 1 { throw ValidationError("several inputs need --output-dir DIR") }
            if jobs != nil { throw ValidationError("--jobs needs --output-dir") }
        }
    }

    func run() throws {
        if outputDirectory != nil {
            try runBatch()
        } else {
            try runSingle()
        }
    }

    /// The copy options of one conversion.
    func copyOptions(threads: Int, progress: ProgressScope) throws -> ImageCopy.Options {
        var o = ImageCopy.Options()
        o.operation = "convert"
        let platform: Platform?
        do { platform = try self.platform.map { try Platform(parsing: $0) } } catch { throw UsageError("\(error)") }
        o.platforms = allPlatforms ? .all : .one(platform)
        o.recode = compress.target.map { RecodePlan(target: $0, level: level, threads: threads) }
        o.tmpdir = tmpdir
        o.progress = progress
        return o
    }

    /// The transport context of one conversion.
    func context(threads: Int) throws -> TransportContext {
        TransportContext(store: ImageStore(root: "/nonexistent-ocitool-convert"), archiveFormat: format,
                         outerCompression: outputCompression.value, mtime: try ArchiveWriter.Options.sourceDateEpoch(), threads: threads,
                         registry: try registryFlags.options())
    }

    /// Converts `input` (nil: stdin) to `output` (nil: stdout).
    func convert(input: String?, output: String?, threads: Int, progress: ProgressScope) throws -> ImageCopy.Report {
        let source = try input.map { try TransportReference.source($0) } ?? .archive(path: nil, format: .auto, detail: nil)
        if case .store = source { throw UsageError("\(input ?? ""): no such file or directory (convert reads archives and layout directories)") }
        let destination: TransportReference = try output.map { o in
            o.hasPrefix("docker://") ? try TransportReference.destination(o) : .archive(path: o, format: .auto, detail: nil)
        } ?? .archive(path: nil, format: .auto, detail: nil)
        let context = try context(threads: threads)
        let report = try ImageCopy.copy(from: try source.openSource(context), to: try destination.openDestination(context),
                                        options: try copyOptions(threads: threads, progress: progress))
        progress.done(report.done(destination: output ?? "stdout"))
        return report
    }

    // MARK: one archive

    private func runSingle() throws {
        let input = inputs.first.flatMap { $0 == "-" ? nil : $0 }
        let out = output.flatMap { $0 == "-" ? nil : $0 }
        if out == nil && Console.stdoutIsTerminal {
            throw UsageError("refusing to write an archive to a terminal; redirect stdout or use -o FILE")
        }
        if input == nil && Console.stdinIsTerminal {
            throw UsageError("convert reads an archive from stdin, but stdin is a terminal; give a file or pipe an archive in")
        }
        let renderer = progressOptions.makeRenderer()
        defer { renderer.close() }
        let progress = renderer.scope(job: input ?? "stdin")
        try progressOptions.run(progress) {
            _ = try convert(input: input, output: out, threads: threads ?? 0, progress: progress)
        }
    }
}
