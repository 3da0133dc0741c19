import Foundation
import Testing
import OCICore
import OCIModel
import OCIStore
import OCIArchive
import OCIImage
import OCITestSupport

/// Loads an archive into a fresh store through the library API.
func loadFresh(_ path: String, platform: Platform? = nil) throws -> (TempDir, ImageStore, ImageOps.LoadResult) {
    let tmp = try TempDir(prefix: "ocitool-store")
    let store = ImageStore(root: tmp.file("root"))
    let result = try ImageOps.load(path, into: store, platform: platform)
    return (tmp, store, result)
}

/// An uncompressed copy of an outer-compressed archive (skopeo 1.9 reads
/// docker-archive only from plain tar).
func plainCopy(_ info: TestImageInfo, in tmp: TempDir) throws -> String {
    switch info.outerCompression {
    case "gzip", "zstd":
        let out = tmp.file("plain.tar")
        let r = try Shell.run(["sh", "-c", "\(info.outerCompression == "gzip" ? "gzip" : "zstd -q") -dc \"$1\" > \"$2\"", "sh", info.path, out])
        #expect(r.status == 0, "\(r.stderr)")
        return out
    default:
        return info.path
    }
}

func skopeo(_ args: [String]) throws -> Shell.Result {
    try Shell.run(["skopeo", "--insecure-policy"] + args)
}

@Suite("load: TestImages against skopeo")
struct LoadTestImagesTests {
    @Test(arguments: TestImageInfo.all)
    func loadsAndMatchesSkopeo(info: TestImageInfo) throws {
        let (tmp, store, result) = try loadFresh(info.path)
        #expect(!result.images.isEmpty)
        let plain = try plainCopy(info, in: tmp)
        for (i, image) in result.images.enumerated() {
            let transport = info.format == "docker" ? "docker-archive:\(plain):@\(i)" : "oci-archive:\(plain)"
            // Image ID = sha256 of the config bytes skopeo reads.
            let config = try skopeo(["inspect", "--config", "--raw", transport])
            try #require(config.status == 0, "skopeo: \(config.stderr)")
            #expect(SHA256Hasher.digest(config.stdout) == image.id, "\(info.file) image \(i)")
            let cfg = try ImageConfig.parse(config.stdout, what: "skopeo config")
            #expect(cfg.diffIDs == image.config.diffIDs)
            if info.format == "oci" {
                // OCI inputs keep their manifest: same digest as skopeo's raw manifest.
                let raw = try skopeo(["inspect", "--raw", transport])
                try #require(raw.status == 0, "skopeo: \(raw.stderr)")
                #expect(SHA256Hasher.digest(raw.stdout) == image.descriptor.digest)
            }
            // The stored image resolves and verifies.
            let stored = try ImageOps.resolve(image.id.description, in: store)
            #expect(stored.id == image.id)
            #expect(stored.config.diffIDs.count == stored.manifest.layers.count)
        }
        // Names: every full reference of the INDEX row was loaded (a bare
        // OCI ref.name such as "v1" names no repository: the image loads by ID).
        let names = Set(result.images.flatMap(\.names).map(\.description))
        for t in info.tags where t.contains("/") || t.contains(":") { #expect(names.contains(try ImageReference(parsing: t).description), "\(t)") }
    }

    @Test func compressedAndStdinLoadsGiveTheSameStore() throws {
        guard let info = TestImageInfo.all.first(where: { $0.file == "podman-docker.tar" }) else { return }
        let tmp = try TempDir(prefix: "ocitool-variants")
        let gz = tmp.file("a.tar.gz"), zst = tmp.file("a.tar.zst")
        #expect(try Shell.run(["sh", "-c", "gzip -c \"$1\" > \"$2\" && zstd -q -c \"$1\" > \"$3\"", "sh", info.path, gz, zst]).status == 0)
        var snapshots: [TreeSnapshot] = []
        for (i, input) in [info.path, gz, zst].enumerated() {
            let root = tmp.file("root\(i)")
            let r = try OCIToolBinary.run(["load", "--root", root, "-q", input])
            #expect(r.status == 0, "\(r.stderr)")
            snapshots.append(try TreeSnapshot(root))
        }
        for (i, input) in [info.path, gz, zst].enumerated() {
            let root = tmp.file("stdin\(i)")
            let r = try OCIToolBinary.run(["load", "--root", root, "-q"], stdinFile: input)
            #expect(r.status == 0, "\(r.stderr)")
            snapshots.append(try TreeSnapshot(root))
        }
        for s in snapshots.dropFirst() { #expect(s == snapshots[0]) }
        #expect(snapshots[0].entries.keys.contains("index.json"))
    }

    @Test func storeIsAnOCILayoutPeersRead() throws {
        guard let info = TestImageInfo.all.first(where: { $0.file == "podman-docker.tar" }) else { return }
        let (tmp, store, result) = try loadFresh(info.path)
        let image = try #require(result.images.first)
        let tag = try #require(image.names.first?.description)
        let inspect = try skopeo(["inspect", "--config", "--raw", "oci:\(store.root):\(tag)"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(SHA256Hasher.digest(inspect.stdout) == image.id)
        let out = tmp.file("copy.tar")
        let copy = try skopeo(["copy", "oci:\(store.root):\(tag)", "docker-archive:\(out)"])
        #expect(copy.status == 0, "\(copy.stderr)")
        let umoci = try Shell.run(["umoci", "stat", "--image", "\(store.root):\(tag)"])
        #expect(umoci.status == 0, "\(umoci.stderr)")
    }

    @Test func concurrentLoadsBothSucceed() throws {
        let infos = TestImageInfo.all.filter { $0.outerCompression == "none" }.prefix(4)
        let tmp = try TempDir(prefix: "ocitool-concurrent")
        let root = tmp.file("root")
        let procs: [Process] = try infos.map { info in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: OCIToolBinary.path)
            p.arguments = ["load", "--root", root, "-q", info.path]
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            return p
        }
        for p in procs {
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
        }
        let store = ImageStore(root: root)
        let names = Set(try ImageOps.images(in: store).flatMap(\.names).map(\.description))
        for info in infos {
            for t in info.tags { #expect(names.contains(try ImageReference(parsing: t).description), "\(t) missing after concurrent loads") }
        }
        // Every referenced blob exists and nothing is left staged.
        for d in try store.referencedDigests() { #expect(store.blobs.path(of: d) != nil) }
        #expect((try? FS.listDirectory(store.blobs.ingestDirectory))?.isEmpty ?? true)
    }
}
