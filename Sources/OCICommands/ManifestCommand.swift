import ArgumentParser
import Foundation
import OCICore
import OCIImage
import OCIModel
import OCITransport

struct ManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract: "Print an image's manifest (or a multi-platform image's index) exactly as stored, like crane manifest.",
        discussion: """
        SOURCE is a store reference, an archive, a layout directory, a transport, or - (stdin). With --platform, the platform's manifest of an index.

        Examples:
          ocitool manifest app:1 | jq .layers
          ocitool manifest --platform linux/arm64 multi.tar
        """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags
    @OptionGroup var platformOption: PlatformOption
    @Argument(help: "Image: store reference, archive, layout directory, transport, or - (stdin).") var source: String

    func run() throws {
        let reader = try ImageReader(source, context: try storeOptions.context(registry: registryFlags))
        defer { reader.close() }
        Console.outRaw(try Self.document(reader, platform: try platformOption.parsed()).bytes)
    }

    /// The bytes and descriptor the verbs of this family report: the index
    /// of a multi-platform image unless a platform is asked for, else the manifest.
    static func document(_ reader: ImageReader, platform: Platform?) throws -> (bytes: [UInt8], descriptor: Descriptor) {
        if platform == nil, reader.entries.count == 1, case let .index(x)? = reader.entries.first {
            return (x.document.bytes, x.descriptor)
        }
        let image = try reader.image(platform: platform, localLayers: false)
        return (image.manifest.bytes, image.descriptor)
    }
}

struct DigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract: "Print the digest of an image's manifest (or index), like crane digest.",
        discussion: """
        The digest a registry would give the image (the repo digest), for any source. --platform picks a platform's manifest.

        Examples:
          ocitool digest app:1
          ocitool digest --platform linux/amd64 docker://registry.example.com/app:1
        """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags
    @OptionGroup var platformOption: PlatformOption
    @Argument(help: "Image: store reference, archive, layout directory, transport, or - (stdin).") var source: String

    func run() throws {
        let reader = try ImageReader(source, context: try storeOptions.context(registry: registryFlags))
        defer { reader.close() }
        Console.out(try ManifestCommand.document(reader, platform: try platformOption.parsed()).descriptor.digest.description)
    }
}
