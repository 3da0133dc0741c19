import Foundation
import OCICore
import OCIModel
import OCIStore
import OCIArchive
import OCIImage
import OCILayer
import OCITestSupport
import Testing

/// `Squash`: one layer that is the export, config kept, history collapsed;
/// stored with `ImageStore.commit`, and judged by podman (which pulls it
/// from the store, an OCI layout) and by umoci.
@Suite("Squash", .serialized)
struct SquashTests {
    static let images = ["podman-docker.tar", "umoci-whiteout-oci.tar", "handmade-opaque-oci.tar", "podman-multi-docker.tar@1"]

    @Test("squashed image: one layer, same tree, config kept", arguments: images)
    func squash(_ name: String) throws {
        let tmp = try TempDir(prefix: "ocitool-squash")
        let store = ImageStore(root: tmp.file("store"))
        let source = try OpenedImage(Fixtures.testImagesDir + "/" + name, store: store)
        defer { source.close() }
        let tag = try ImageReference(parsing: "ocitool-test/squashed:t")
        let result = try ImageOps.squash(source.record, into: store, names: [tag])
        let resultDiffID = try #require(result.diffIDs.first)
        let resultLayer = try #require(result.layers.first)

        let stored = try ImageOps.resolve("ocitool-test/squashed:t", in: store)
        #expect(stored.id == result.id)
        #expect(stored.manifest.layers.count == 1)
        #expect(stored.config.diffIDs == [resultDiffID])
        #expect(stored.config.history?.count == 1)
        let createdBy = stored.config.history?.first?.createdBy ?? ""
        #expect(createdBy.contains("ocitool squash") && createdBy.contains(source.record.id.description))
        if let first = source.record.config.diffIDs.first { #expect(createdBy.contains(first.description)) }
        // Every other config field is kept.
        let before = try CanonicalJSON.object(from: source.record.configBytes, what: "source") as? [String: Any] ?? [:]
        let after = try CanonicalJSON.object(from: stored.configBytes, what: "squashed") as? [String: Any] ?? [:]
        #expect(Set(before.keys).union(["rootfs", "history"]) == Set(after.keys).union(["history"]))
        for key in before.keys where key != "rootfs" && key != "history" {
            #expect(NSDictionary(dictionary: [key: before[key] ?? NSNull()]).isEqual(to: [key: after[key] ?? NSNull()]), "config field \(key)")
        }
        // The layer's diff_id is the sha256 of its uncompressed bytes (checked by an independent reader).
        let layerPath = store.blobs.blobPath(resultLayer.digest)
        let r = try Shell.run(["sh", "-c", "gzip -dc \"$1\" | sha256sum", "sh", layerPath])
        #expect(r.stdoutText.hasPrefix(resultDiffID.encoded))

        // Same tree as the original stack.
        let original = tmp.file("original"), squashed = tmp.file("squashed")
        try Unpacker.unpack(source.layers, into: original)
        try Unpacker.unpack(LayerSource.layers(of: stored), into: squashed)
        let want = try TreeListing(directory: original, options: LayerTests.exact)
        let got = try TreeListing(directory: squashed, options: LayerTests.exact)
        #expect(got == want, "\(name):\n\(want.differences(from: got).joined(separator: "\n"))")
    }

    @Test("podman pulls the squashed image from the store and shows the same tree")
    func podmanAgrees() throws {
        let tmp = try TempDir(prefix: "ocitool-squash-podman")
        // podman names an image pulled from oci:DIR after DIR, which must be lower case.
        let storeRoot = "/tmp/ocitool-squash-podman-\(getpid())"
        FS.removeTree(storeRoot)
        defer { FS.removeTree(storeRoot) }
        let store = ImageStore(root: storeRoot)
        let source = try OpenedImage(Fixtures.testImagesDir + "/podman-docker.tar", store: store)
        defer { source.close() }
        try ImageOps.squash(source.record, into: store, names: [try ImageReference(parsing: "ocitool-test/squashed:podman")])
        let ours = tmp.file("ours")
        try Unpacker.unpack(source.layers, into: ours)

        let podman = UnionOracles.Podman(dir: tmp.file("podman"))
        defer { podman.cleanup() }
        let mounted = try podman.mount("oci:\(store.root):docker.io/ocitool-test/squashed:podman", name: "ocitool-squash-test")
        let want = try TreeListing(directory: ours, options: LayerTests.exact)
        let got = try TreeListing(directory: mounted, options: LayerTests.exact)
        #expect(got == want, "\(want.differences(from: got).joined(separator: "\n"))")
        let image = try podman.run(["inspect", "--format", "{{.Image}}", "ocitool-squash-test"])
        let history = try podman.run(["history", "--format", "{{.CreatedBy}}", "--no-trunc", image])
        #expect(history.split(separator: "\n").count == 1 && history.contains("ocitool squash"), "\(history)")
    }

    @Test("umoci unpacks the squashed image to the same tree")
    func umociAgrees() throws {
        let tmp = try TempDir(prefix: "ocitool-squash-umoci")
        let store = ImageStore(root: tmp.file("store"))
        let source = try OpenedImage(Fixtures.testImagesDir + "/umoci-whiteout-oci.tar", store: store)
        defer { source.close() }
        try ImageOps.squash(source.record, into: store, names: [try ImageReference(parsing: "sq:umoci")], compression: .zstd)
        let stored = try ImageOps.resolve("sq:umoci", in: store)
        #expect(stored.manifest.layers.first?.mediaType == MediaType.ociLayerZstd)
        let ours = tmp.file("ours")
        try Unpacker.unpack(source.layers, into: ours)
        let umoci = try LayerTests.umociRootfs(for: stored, in: tmp)
        let want = try TreeListing(directory: ours, options: LayerTests.full)
        let got = try TreeListing(directory: umoci, options: LayerTests.full)
        #expect(got == want, "\(want.differences(from: got).joined(separator: "\n"))")
    }

    @Test func failedSquashLeavesTheStoreAlone() throws {
        let tmp = try TempDir(prefix: "ocitool-squash-fail")
        let store = ImageStore(root: tmp.file("store"))
        let source = try OpenedImage(Fixtures.testImagesDir + "/podman-docker.tar", store: store)
        defer { source.close() }
        _ = try ImageOps.load(Fixtures.testImagesDir + "/podman-oci.tar", into: store)
        let before = try TreeSnapshot(store.root)
        #expect(throws: LayerError.self) {
            try ImageOps.squash(source.record, into: store, limits: UnionLimits(maxBytes: 10, maxEntries: 1000))
        }
        #expect(try TreeSnapshot(store.root) == before)
        #expect((try? FS.listDirectory(store.blobs.ingestDirectory))?.isEmpty ?? true)
    }
}

/// `squash -o`: the image written as an archive (through `ArchiveWriter`)
/// instead of the store; podman loads it and shows the same tree.
@Suite("squash -o")
struct SquashArchiveTests {
    @Test(arguments: ["docker", "oci"])
    func podmanLoadsTheArchive(_ format: String) throws {
        let tmp = try TempDir(prefix: "ocitool-squash-o")
        let source = Fixtures.testImagesDir + "/handmade-opaque-oci.tar"
        let out = tmp.file("flat.tar")
        let r = try OCIToolBinary.run(["squash", "--root", tmp.file("store"), source, "ocitool-test/flat:\(format)",
                                       "-o", out, "--format", format])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!FS.exists(tmp.file("store") + "/index.json"), "-o must not touch the store")
        let ours = tmp.file("ours")
        let image = try OpenedImage(source, store: ImageStore(root: tmp.file("s2")))
        defer { image.close() }
        try Unpacker.unpack(image.layers, into: ours)

        let podman = UnionOracles.Podman(dir: tmp.file("podman"))
        defer { podman.cleanup() }
        let loaded = try podman.run(["load", "-q", "-i", out])
        #expect(loaded.contains("ocitool-test/flat") || format == "oci", "\(loaded)")
        let images = try podman.run(["images", "-q", "--no-trunc"])
        let id = try #require(images.split(separator: "\n").first.map(String.init))
        #expect(id.hasSuffix(r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "sha256:", with: "")))
        try podman.run(["create", "--name", "flat", id, "/bin/true"])
        let mounted = try podman.run(["mount", "flat"])
        let want = try TreeListing(directory: ours, options: LayerTests.exact)
        let got = try TreeListing(directory: mounted, options: LayerTests.exact)
        #expect(got == want, "\(want.differences(from: got).joined(separator: "\n"))")
    }
}
