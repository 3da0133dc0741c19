import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIStore
import OCIArchive
import OCIImage
import OCITransport
import OCILayer
#if canImport(Glibc)
import Glibc
#endif

struct SquashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "squash",
        abstract: "Make a new image whose single layer is the merged file system of IMAGE (config kept, history collapsed to one entry).",
        discussion: """
        Without -o the new image goes into the store (tagged NAME:TAG when given); with -o it is written as an \
        archive instead (the store is not touched) through a temporary file renamed at the end. The image ID is printed \
        (on stderr when the archive goes to stdout).

        Examples:
          ocitool squash app:1 app:flat
          ocitool squash app.tar -o flat.tar --format oci
        """)

    enum LayerCompressionChoice: String, ExpressibleByArgument, CaseIterable {
        case gzip, zstd, none
        var value: LayerCompression { LayerCompression(rawValue: rawValue) ?? .gzip }
    }

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags
    @OptionGroup var union: UnionOptions

    @Argument(help: "Image reference, archive file, or OCI layout directory.") var image: String
    @Argument(help: "Name for the new image (name[:tag]); without it the image is untagged.") var name: String?

    @Option(name: .customLong("compress"), help: "Compression of the new layer: gzip, zstd or none.") var compression: LayerCompressionChoice = .gzip

    @Option(name: .shortAndLong, help: "Write the new image to this archive (- for stdout) instead of the store.")
    var output: String?

    @Option(help: "Archive format with -o: docker (Docker 25+ hybrid) or oci.")
    var format: ArchiveWriter.Flavour = .docker

    func run() throws {
        let target = try name.map { try ImageReference(parsing: $0) }
        if let target, target.digest != nil && target.tag == nil {
            throw ValidationError("the new name cannot be a digest reference")
        }
        let source = try TransportReference.source(image)
        try Streams.checkInput(source)
        let archiveOut: TransportReference? = output.map { .archive(path: $0 == "-" ? nil : $0, format: .auto, detail: nil) }
        if let archiveOut { try Streams.checkOutput(archiveOut) }
        let context = try storeOptions.context(format: format, registry: registryFlags)
        var options = ImageCopy.Options()
        options.operation = "squash"
        options.platforms = .one(try union.parsedPlatform())
        let limits = union.limits
        let compression = self.compression.value
        let names = target.map { [$0] } ?? []
        options.mutate = { image, staging in
            try Squash.mutate(image, staging: staging, names: names, compression: compression, limits: limits) { Console.err("warning: \($0)") }
        }
        let destination = try archiveOut?.openDestination(context) ?? StoreDestination(store: context.store)
        let report = try ImageCopy.copy(from: try source.openSource(context), to: destination, options: options)
        guard let made = report.entries.first else { throw ImageError.invalid(image, "no image was made") }
        if output == "-" { Console.err(made.id.description) } else { Console.out(made.id.description) }
    }
}
