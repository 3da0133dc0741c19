import ArgumentParser
import Foundation
import OCICore
import OCIModel
import OCIStore

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show image details as a JSON array, like docker image inspect.")

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Image references (name[:tag], name@digest, or image ID prefix).")
    var refs: [String]

    func run() throws {
        let store = storeOptions.store
        var out: [Any] = []
        var failures: [String] = []
        for ref in refs {
            do {
                out.append(try Self.document(for: store.resolve(ref)))
            } catch {
                failures.append("\(error)")
            }
        }
        Console.out(out.isEmpty ? "[]" : Console.json(out))
        if !failures.isEmpty {
            for f in failures { Console.err("Error: \(f)") }
            throw ExitCode(1)
        }
    }

    static func document(for image: StoredImage) throws -> [String: Any] {
        let raw = (try CanonicalJSON.object(from: image.configBytes, what: "config \(image.id)")) as? [String: Any] ?? [:]
        var repoDigests: [String] = []
        for n in image.names {
            let s = "\(n.familiarName)@\(image.manifestDigest)"
            if !repoDigests.contains(s) { repoDigests.append(s) }
        }
        let lastComment = image.config.history?.last?.comment ?? ""
        var doc: [String: Any] = [
            "Id": image.id.description,
            "RepoTags": image.names.map(\.familiarString),
            "RepoDigests": repoDigests,
            "Parent": "",
            "Comment": lastComment,
            "Created": image.config.created ?? "",
            "DockerVersion": raw["docker_version"] as? String ?? "",
            "Author": image.config.author ?? "",
            "Config": raw["config"] ?? NSNull(),
            "Architecture": image.config.architecture ?? "",
            "Os": image.config.os ?? "",
            "Size": image.storedSize,
            "RootFS": [
                "Type": image.config.rootfs?.type ?? "layers",
                "Layers": image.config.diffIDs.map(\.description),
            ] as [String: Any],
            "Metadata": ["LastTagTime": ""],
        ]
        if let v = image.config.variant { doc["Variant"] = v }
        doc["Descriptor"] = [
            "mediaType": image.descriptor.mediaType,
            "digest": image.manifestDigest.description,
            "size": image.descriptor.size,
        ] as [String: Any]
        doc["OCITool"] = [
            "ManifestDigest": image.manifestDigest.description,
            "ManifestMediaType": image.manifest.mediaType ?? image.descriptor.mediaType,
            "ConfigDescriptor": descriptorObject(image.manifest.config),
            "Layers": image.manifest.layers.map(descriptorObject),
        ] as [String: Any]
        return doc
    }

    static func descriptorObject(_ d: Descriptor) -> [String: Any] {
        var o: [String: Any] = ["mediaType": d.mediaType, "digest": d.digest.description, "size": d.size]
        if let a = d.annotations { o["annotations"] = a }
        return o
    }
}
