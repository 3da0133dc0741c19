import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIImage
import OCIStore
import OCIArchive
import OCITransport

struct SaveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "save",
        abstract: "Write images to an archive (Docker 25+ hybrid by default, or an OCI layout), from the store or straight from another archive.",
        discussion: """
        A copy to an archive: the archive goes to standard output unless -o is given; stdout then carries archive \
        bytes only. With -o FILE the archive is written to a temporary file next to FILE and renamed at the end \
        (a device or FIFO is written into), so a failed save leaves no partial file. Blobs are copied byte for \
        byte; layers are re-encoded only with --compress, into a spool, never in memory. The same images give the \
        same bytes (member mtimes: SOURCE_DATE_EPOCH, else 0).

        Examples:
          ocitool save -o app.tar app:1
          ocitool save --format oci --compress zstd -o app-oci.tar app:1 other:2
          ocitool save app:1 | gzip > app.tar.gz
        """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags

    @Option(name: .shortAndLong, help: "Write the archive to this file instead of stdout.", completion: .file())
    var output: String?

    @Option(help: "Archive format: docker (Docker 25+ hybrid: OCI layout + manifest.json) or oci (OCI layout only).")
    var format: ArchiveWriter.Flavour = .docker

    @OptionGroup var platformOption: KeepPlatformOption

    @Option(help: "Layer compression: keep, gzip, zstd or none. Only layers in another compression are re-encoded; diff_ids and the config stay, the manifest is rewritten.")
    var compress: CompressChoice = .keep

    @Option(name: .customLong("from"), help: "Read the images from this archive file, OCI layout directory, transport, or - (stdin) instead of the store.",
            completion: .file())
    var from: String?

    @Option(help: "Directory for the spool of re-encoded layers and --from blobs (default: $TMPDIR or /tmp).")
    var tmpdir: String?

    @OptionGroup var progressOptions: ProgressOptions

    @Argument(help: "Images: name[:tag], name (all its tags), image ID, or name@digest. With --from, default: every image of the archive.",
              completion: .custom(CompletionSupport.imageNames))
    var refs: [String] = []

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
        let destination: TransportReference = output.map { $0 == "-" ? .archive(path: nil, format: .auto, detail: nil) : .archive(path: $0, format: .auto, detail: nil) }
            ?? .archive(path: nil, format: .auto, detail: nil)
        try Streams.checkOutput(destination)
        let context = try storeOptions.context(format: format, registry: registryFlags)
        let source: ImageSource
        if let from {
            let reference = try TransportReference.source(from)
            try Streams.checkInput(reference)
            let opened = try reference.openSource(context)
            let refs = self.refs
            source = refs.isEmpty ? opened : MappedSource(opened) { try ImageSelector.select(refs, from: $0, source: opened.description) }
        } else {
            source = StoreSource(store: context.store, selection: .select(refs))
        }
        var options = ImageCopy.Options()
        options.operation = "save"
        options.platforms = try platformOption.parsed().map { .one($0) } ?? .all
        options.recode = compress.target.map { RecodePlan(target: $0) }
        options.tmpdir = tmpdir
        options.progress = progress
        let report = try ImageCopy.copy(from: source, to: try destination.openDestination(context), options: options)
        progress.done(report.done(destination: output ?? "stdout"))
    }
}
