import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIImage
import OCIStore
import OCITransport
import OCIRegistry

struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Copy many images in one run: archives, the store or registry repositories to a registry or the store.",
        discussion: """
        SOURCE is docker://HOST/REPO[:TAG|@DIGEST] (without a tag: every tag of the repository), an archive file or \
        OCI layout directory (every image in it), or store:NAME. --from-store adds every named image of the store. \
        --list FILE adds one SOURCE [DESTINATION] per line (# starts a comment). An image without its own \
        DESTINATION goes under --to: docker://HOST[/PREFIX] or store:[PREFIX]; an image named HOST/PATH:TAG goes to \
        PREFIX/PATH:TAG (store: alone keeps names). Each source is read once; a blob common to several images is \
        fetched once and pushed once per registry, then mounted into other repositories of it. Multi-platform \
        images are copied whole unless --platform picks one; referrers (signatures, SBOMs) follow images between \
        registries. A table (SOURCE DESTINATION IMAGES BLOBS BYTES TIME STATUS) ends the run; the exit status is 1 \
        if any image failed (the others are still copied).
        """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags

    @Option(help: "Where images go: docker://HOST[/PREFIX] or store:[PREFIX].") var to: String?
    @Option(help: "A source, as an argument would be (repeatable).") var from: [String] = []
    @Option(name: .customLong("list"), help: "A file of SOURCE [DESTINATION] lines.") var listFile: String?
    @Flag(name: .customLong("from-store"), help: "Every named image of the store is a source.") var fromStore = false

    @Option(name: .customLong("src-creds"), help: "Credentials USER:PASSWORD for docker:// sources.") var srcCreds: String?
    @Option(name: .customLong("dest-creds"), help: "Credentials USER:PASSWORD for docker:// destinations.") var destCreds: String?
    @Option(name: .customLong("src-tls-verify"), help: "Verify source registries' TLS certificates.") var srcTLSVerify: Bool?
    @Option(name: .customLong("dest-tls-verify"), help: "Verify destination registries' TLS certificates.") var destTLSVerify: Bool?
    @Option(name: .customLong("src-cert-dir"), help: "CA and client certificates for source registries.") var srcCertDir: String?
    @Option(name: .customLong("dest-cert-dir"), help: "CA and client certificates for destination registries.") var destCertDir: String?

    @OptionGroup var platformOption: KeepPlatformOption
    @Flag(inversion: .prefixedNo, help: "Copy referrers (signatures, SBOMs) between registries.") var referrers = true
    @Option(help: "Blobs transferred at once per image.") var jobs: Int = 4
    @Option(help: "Images copied at once.") var images: Int = 2
    @Option(help: "Directory for spooled blobs (default: $TMPDIR or /tmp).") var tmpdir: String?
    @OptionGroup var progressOptions: ProgressOptions

    @Argument(help: "Sources (see above).") var sources: [String] = []

    func validate() throws {
        if sources.isEmpty && from.isEmpty && listFile == nil && !fromStore { throw ValidationError("give sources, --from, --list FILE or --from-store") }
        guard (1...64).contains(jobs), (1...64).contains(images) else { throw ValidationError("--jobs and --images must be 1-64") }
    }

    func run() throws {
        var items = (from + sources).map { ImageSync.Item(source: $0) }
        if let listFile {
            let text: String
            do { text = String(decoding: try FS.readFile(listFile, limit: 16 << 20), as: UTF8.self) } catch {
                throw UsageError("--list \(listFile): \(error)")
            }
            do { items += try ImageSync.Item.parseList(text, name: listFile) } catch { throw UsageError("\(error)") }
        }
        let target: ImageSync.Target?
        do { target = try to.map { try ImageSync.Target.parse($0) } } catch { throw UsageError("\(error)") }
        if target == nil && (fromStore || items.contains { $0.destination == nil }) {
            throw UsageError("--to DEST is needed for sources without a DESTINATION on their --list line")
        }
        let context = try storeOptions.context(registry: registryFlags)
        var sourceContext = context, destinationContext = context
        try sourceContext.registry.override(creds: srcCreds, tlsVerify: srcTLSVerify, certDir: srcCertDir)
        try destinationContext.registry.override(creds: destCreds, tlsVerify: destTLSVerify, certDir: destCertDir)

        var options = ImageSync.Options()
        options.copy.platforms = try platformOption.parsed().map { .one($0) } ?? .all
        options.copy.jobs = jobs
        options.copy.tmpdir = tmpdir
        options.images = images
        options.referrers = referrers
        options.fromStore = fromStore
        let renderer = progressOptions.makeRenderer()
        renderer.multiJob = true
        defer { renderer.close() }
        options.progress = { renderer.scope(job: $0) }
        let results: [ImageSync.Result]
        do {
            results = try ImageSync.run(items, to: target, source: sourceContext, destination: destinationContext, options: options)
        } catch let e as TransportError {
            throw UsageError("\(e)")
        }
        renderer.close()
        let failed = results.filter { $0.error != nil }
        if progressOptions.quiet {
            for r in failed { Console.err("error: \(r.source) → \(r.destination): \(r.error ?? "")") }
        } else if progressOptions.effectiveMode != .json {
            Console.out(Self.table(results))
        }
        if results.isEmpty && !progressOptions.quiet { Console.err("sync: no images found") }
        if !failed.isEmpty { throw ExitCode.failure }
    }

    /// SOURCE DESTINATION IMAGES BLOBS BYTES TIME STATUS, one row per image, in source order.
    static func table(_ results: [ImageSync.Result]) -> String {
        let rows = results.map { r -> [String] in
            let ok = r.error == nil
            return [r.source, r.destination, ok ? "\(r.images)" : "-", ok ? "\(r.blobs)" : "-", ok ? HumanUnits.size(r.bytes) : "-",
                    ProgressRenderer.seconds(r.seconds), r.error.map { "failed: \($0)" } ?? "ok"]
        }
        return Console.table(["SOURCE", "DESTINATION", "IMAGES", "BLOBS", "BYTES", "TIME", "STATUS"], rows)
    }
}
