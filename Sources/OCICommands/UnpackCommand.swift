import ArgumentParser
import OCICore
import OCIModel
import OCIStore
import OCILayer
import OCIImage
import OCITransport

/// Options of the union-view verbs (unpack, export, squash, diff).
struct UnionOptions: ParsableArguments {
    @Option(name: .customLong("max-bytes"), help: "Stop when the layers hold more uncompressed file data than this (bytes; K, M, G, T suffixes).")
    var maxBytes: ByteCount = ByteCount(UnionLimits.defaults.maxBytes)

    @Option(name: .customLong("max-entries"), help: "Stop when the layers hold more tar members than this in total.")
    var maxEntries: Int64 = UnionLimits.defaults.maxEntries

    @Option(help: "Platform to use from a multi-platform image, os/arch[/variant] (default: this machine's).")
    var platform: String?

    var limits: UnionLimits { UnionLimits(maxBytes: maxBytes.value, maxEntries: maxEntries) }

    func parsedPlatform() throws -> Platform? {
        do { return try platform.map { try Platform(parsing: $0) } } catch { throw UsageError("\(error)") }
    }

    func validate() throws {
        if maxEntries < 1 { throw ValidationError("--max-entries must be at least 1") }
    }
}

/// A byte count with an optional binary suffix (`512`, `64K`, `10G`).
struct ByteCount: ExpressibleByArgument {
    var value: Int64

    init(_ value: Int64) { self.value = value }

    init?(argument: String) {
        var digits = argument.uppercased()
        if digits.hasSuffix("B") { digits.removeLast() }
        if digits.hasSuffix("I") { digits.removeLast() }
        var shift: Int64 = 0
        if let last = digits.last, let s = ["K": 10, "M": 20, "G": 30, "T": 40][String(last)] {
            shift = Int64(s)
            digits.removeLast()
        }
        guard let n = Int64(digits), n >= 0, n <= Int64.max >> shift else { return nil }
        value = n << shift
    }

    var defaultValueDescription: String {
        for (suffix, shift) in [("T", 40), ("G", 30), ("M", 20), ("K", 10)] where value > 0 && value % (Int64(1) << shift) == 0 {
            return "\(value >> shift)\(suffix)"
        }
        return "\(value)"
    }
}

struct UnpackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unpack",
        abstract: "Apply an image's layers, bottom first, into a directory (whiteouts, opaque directories, hard links, owners, xattrs).",
        discussion: """
        IMAGE is a store reference or an archive file / OCI layout directory (ARCHIVE@N picks the N-th image of a \
        multi-image archive). Nothing an image contains can write outside DIR: paths that climb out with .. are \
        rejected, absolute paths and symlinks are resolved inside DIR, hard links must point inside it.

        Examples:
          ocitool unpack app:1 /tmp/rootfs
          ocitool unpack --rootless app.tar ./rootfs
        """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags
    @OptionGroup var union: UnionOptions

    @Argument(help: "Image reference, archive file, or OCI layout directory.", completion: .custom(CompletionSupport.imagesAndFiles)) var image: String
    @Argument(help: "Target directory (created if missing; must be empty unless --force).", completion: .directory) var directory: String

    @Flag(help: "Like umoci --rootless: no device nodes and no chown, whoever runs it; what is skipped is counted in one warning.")
    var rootless = false

    @Flag(name: .customLong("no-same-owner"), help: "Do not give files the owners recorded in the layers (default as root: do).")
    var noSameOwner = false

    @Flag(name: .customLong("skip-unsafe"), help: "Warn about unsafe entries (escaping paths, whiteouts of . or ..) and go on, instead of stopping.")
    var skipUnsafe = false

    @Flag(help: "Apply the layers over a directory that is not empty.")
    var force = false

    @OptionGroup var progressOptions: ProgressOptions

    func run() throws {
        let progress = progressOptions.makeReporter(job: image)
        try progressOptions.run(progress) {
            let reader = try ImageReader(image, context: try storeOptions.context(registry: registryFlags))
            defer { reader.close() }
            let chosen = try reader.image(platform: try union.parsedPlatform())
            let options = UnpackOptions(limits: union.limits, sameOwner: !noSameOwner, rootless: rootless,
                                        skipUnsafe: skipUnsafe, allowNonEmpty: force)
            let report = try Unpacker.unpack(LayerSource.layers(of: chosen), into: directory, options: options) { progress.warning($0) }
            for line in report.summary { progress.warning(line) }
        }
    }
}
