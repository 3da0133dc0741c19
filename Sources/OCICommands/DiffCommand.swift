import ArgumentParser
import OCICore
import OCIStore
import OCILayer
import OCIImage
import OCITransport

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "List what changes from A to B (two images, or an image and a directory): A added, C changed, D deleted.",
        discussion: """
        Each side is an image reference, an archive file or OCI layout directory (ARCHIVE@N), or a plain directory tree.

        Examples:
          ocitool diff app:1 app:2
          ocitool diff app:1 ./rootfs
          ocitool diff --format json base.tar@0 app:1
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags
    @OptionGroup var union: UnionOptions

    @Argument(help: "The base: image or directory.") var a: String
    @Argument(help: "The other: image or directory.") var b: String

    @Option(help: "Output: text (docker diff lines) or json (podman diff --format json).") var format: Format = .text

    func run() throws {
        let context = try storeOptions.context(registry: registryFlags)
        var opened: [ImageReader] = []
        defer { opened.forEach { $0.close() } }
        func side(_ arg: String) throws -> ImageDiff.Side {
            if FS.isDirectory(arg) && !["oci-layout", "index.json", "manifest.json"].contains(where: { FS.exists(arg + "/" + $0) }) {
                return .directory(arg)
            }
            let reader = try ImageReader(arg, context: context)
            opened.append(reader)
            return .layers(try LayerSource.layers(of: reader.image(platform: try union.parsedPlatform())))
        }
        let changes = try ImageDiff.diff(side(a), side(b), limits: union.limits)
        switch format {
        case .text:
            for c in changes { Console.out(c.description) }
        case .json:
            func paths(_ k: ImageDiff.Kind) -> [String] { changes.filter { $0.kind == k }.map(\.path) }
            var doc: [String: Any] = [:]
            if !paths(.changed).isEmpty { doc["changed"] = paths(.changed) }
            if !paths(.added).isEmpty { doc["added"] = paths(.added) }
            if !paths(.deleted).isEmpty { doc["deleted"] = paths(.deleted) }
            Console.out(Console.json(doc))
        }
    }
}
