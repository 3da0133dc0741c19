import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIImage
import OCIArchive
import OCITransport
import OCIRegistry

struct CopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy images from a source to a destination (skopeo copy): any transport to any transport.",
        discussion: """
        SOURCE and DESTINATION are transports: docker://HOST/REPO[:TAG|@DIGEST] (a registry), \
        docker-archive:PATH[:NAME:TAG|:@N], oci-archive:PATH[:REF], \
        oci:DIR[:REF], store:NAME (or a bare image name: the store), - (stdin / stdout), or a bare path (an existing \
        archive or layout directory as a source; a file for an archive in --format as a destination). Blobs are \
        copied byte for byte unless --compress re-encodes layers; everything is verified before the destination is \
        written, and a failed copy leaves the destination as it was.

        Examples:
          ocitool copy docker-archive:app.tar oci:./layout:app
          ocitool copy app:1 docker://localhost:5000/app:1
          ocitool copy --all-platforms docker://registry.example.com/app:1 store:app:1
        """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags

    @Option(name: .customLong("src-creds"), help: "Credentials USER:PASSWORD for a docker:// source.") var srcCreds: String?
    @Option(name: .customLong("dest-creds"), help: "Credentials USER:PASSWORD for a docker:// destination.") var destCreds: String?
    @Option(name: .customLong("src-tls-verify"), help: "Verify the source registry's TLS certificates.") var srcTLSVerify: Bool?
    @Option(name: .customLong("dest-tls-verify"), help: "Verify the destination registry's TLS certificates.") var destTLSVerify: Bool?
    @Option(name: .customLong("src-cert-dir"), help: "CA and client certificates for the source registry.") var srcCertDir: String?
    @Option(name: .customLong("dest-cert-dir"), help: "CA and client certificates for the destination registry.") var destCertDir: String?
    @Option(help: "Blobs transferred at once.") var jobs: Int = 4
    @Flag(inversion: .prefixedNo, help: "From a registry to a registry: copy the referrers (signatures, SBOMs) of what is copied.")
    var referrers = true

    @Option(help: "Archive format for a bare-path or - destination: docker (Docker 25+ hybrid) or oci.")
    var format: ArchiveWriter.Flavour = .docker

    @Option(help: "Layer compression: keep, gzip, zstd or none.")
    var compress: CompressChoice = .keep

    @OptionGroup var platformOption: PlatformOption

    @Flag(name: [.customLong("all-platforms"), .customLong("all")], help: "Keep every platform of multi-platform images (default: this machine's).")
    var allPlatforms = false

    @Option(help: "Directory for the spool (default: $TMPDIR or /tmp).")
    var tmpdir: String?

    @OptionGroup var progressOptions: ProgressOptions

    @Argument(help: "Where the images come from.") var source: String
    @Argument(help: "Where they go.") var destination: String

    func validate() throws {
        if platformOption.platform != nil && allPlatforms { throw ValidationError("give --platform or --all-platforms, not both") }
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be 1-64") }
    }

    func run() throws {
        let renderer = progressOptions.makeRenderer()
        defer { renderer.close() }
        let progress = renderer.scope(job: source)
        try progressOptions.run(progress) {
            let src = try TransportReference.source(source)
            let dst = try TransportReference.destination(destination)
            try Streams.checkInput(src)
            try Streams.checkOutput(dst)
            let context = try storeOptions.context(format: format, registry: registryFlags)
            var sourceContext = context, destinationContext = context
            try sourceContext.registry.override(creds: srcCreds, tlsVerify: srcTLSVerify, certDir: srcCertDir)
            try destinationContext.registry.override(creds: destCreds, tlsVerify: destTLSVerify, certDir: destCertDir)
            if case .archive(_, let f, _) = dst, (f == .docker || (f == .auto && format == .docker)), compress == .zstd {
                throw UsageError("--compress zstd needs an OCI destination (oci-archive:, oci:, --format oci): docker archives do not carry zstd layers")
            }
            var options = ImageCopy.Options()
            options.platforms = allPlatforms ? .all : .one(try platformOption.parsed())
            options.recode = compress.target.map { RecodePlan(target: $0) }
            options.tmpdir = tmpdir
            options.progress = progress
            options.jobs = jobs
            let sourceEnd = try src.openSource(sourceContext)
            let destinationEnd: ImageDestination
            do { destinationEnd = try dst.openDestination(destinationContext) } catch {
                sourceEnd.close()
                throw error
            }
            if let registry = destinationEnd as? RegistryDestination {
                registry.jobs = jobs
                if let from = sourceEnd as? RegistrySource {
                    if from.reference.domain == registry.reference.domain && from.reference.path != registry.reference.path {
                        registry.mountFrom = [from.reference.path]
                    }
                    if referrers { registry.referrers = from }
                }
            }
            let report = try ImageCopy.copy(from: sourceEnd, to: destinationEnd, options: options)
            progress.done(report.done(destination: dst.description))
        }
    }
}
