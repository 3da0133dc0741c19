import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIImage
import OCIStore
import OCITransport

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show image details as a JSON array, like docker image inspect; any source (store, archive, layout, stdin).")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryFlags: RegistryFlags
    @OptionGroup var platformOption: PlatformOption
    @Argument(help: "Images: store references (name[:tag], name@digest, ID prefix), archives, layout directories, transports, or - (stdin).")
    var refs: [String]

    func run() throws {
        let context = try storeOptions.context(registry: registryFlags)
        let platform = try platformOption.parsed()
        var out: [Any] = []
        var failures: [String] = []
        for ref in refs {
            do {
                let reader = try ImageReader(ref, context: context)
                defer { reader.close() }
                let image = try reader.image(platform: platform, localLayers: false)
                let entry = reader.entries.first
                out.append(try Self.document(for: image, entry: entry))
            } catch {
                failures.append(OCIToolMain.oneLine(error))
            }
        }
        Console.out(out.isEmpty ? "[]" : Console.json(out))
        if !failures.isEmpty {
            for f in failures { Console.err("Error: \(f)") }
            throw ExitCode(1)
        }
    }

    /// docker's image inspect document for `image` (`entry`: the index it
    /// was chosen from, whose digest is then the repo digest and the ID).
    static func document(for image: Image, entry: ImageEntry?) throws -> [String: Any] {
        let raw = (try CanonicalJSON.object(from: image.config.bytes, what: "config \(image.id)")) as? [String: Any] ?? [:]
        let top = entry ?? .image(image)
        var repoDigests: [String] = []
        for n in top.names {
            let s = "\(n.familiarName)@\(top.digest)"
            if !repoDigests.contains(s) { repoDigests.append(s) }
        }
        let config = image.config.view
        var doc: [String: Any] = [
            "Id": top.id.description,
            "RepoTags": top.names.filter { $0.tag != nil }.map(\.familiarString),
            "RepoDigests": repoDigests,
            "Parent": "",
            "Comment": config.history?.last?.comment ?? "",
            "Created": config.created ?? "",
            "DockerVersion": raw["docker_version"] as? String ?? "",
            "Author": config.author ?? "",
            "Config": raw["config"] ?? NSNull(),
            "Architecture": config.architecture ?? "",
            "Os": config.os ?? "",
            "Size": image.storedSize,
            "RootFS": [
                "Type": config.rootfs?.type ?? "layers",
                "Layers": image.diffIDs.map(\.description),
            ] as [String: Any],
            "Metadata": ["LastTagTime": ""],
        ]
        if let v = config.variant { doc["Variant"] = v }
        doc["Descriptor"] = [
            "mediaType": top.descriptor.mediaType,
            "digest": top.digest.description,
            "size": top.descriptor.size,
        ] as [String: Any]
        doc["OCITool"] = [
            "ManifestDigest": image.digest.description,
            "ManifestMediaType": image.mediaType,
            "ConfigDescriptor": descriptorObject(image.manifest.view.config),
            "Layers": image.layers.map(descriptorObject),
        ] as [String: Any]
        return doc
    }

    static func descriptorObject(_ d: Descriptor) -> [String: Any] {
        var o: [String: Any] = ["mediaType": d.mediaType, "digest": d.digest.description, "size": d.size]
        if let a = d.annotations { o["annotations"] = a }
        return o
    }
}
