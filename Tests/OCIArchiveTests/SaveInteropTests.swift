import Foundation
import Testing
import OCICore
import OCIModel
import OCIStore
import OCIArchive
import OCIImage
import OCITestSupport

/// Peers read what `save` writes: podman 4.3 (`load`, and `pull
/// docker-archive:` which reads only manifest.json), skopeo 1.9
/// (`docker-archive:`, `oci-archive:`), umoci 0.4.7 (`unpack` after untar).
/// The config digest each peer reports is ocitool's image ID.
@Suite("save: podman, skopeo and umoci load the archives", .serialized)
struct SaveInteropTests {
    /// Each image of each TestImages archive, saved alone in both flavours
    /// (zstd images re-encoded to gzip for the docker flavour and for
    /// umoci, which take no zstd).
    @Test("single-image archives", arguments: TestImageInfo.all)
    func singleImages(info: TestImageInfo) throws {
        let tmp = try TempDir(prefix: "ocitool-save-peer")
        let (store, _) = try SaveTests.loadFresh(info.path, in: tmp)
        let recoder = LayerRecoder(plan: RecodePlan(target: .gzip), staging: BlobStore(root: tmp.file("staging")))
        defer { recoder.discard() }
        let podman = try PeerRunner.Podman()
        defer { podman.cleanup() }
        for (i, record) in try SaveTests.named(SaveTests.records(store)).enumerated() {
            let zstd = try SaveTests.hasZstd([record])
            let gzipped = zstd ? try recoder.recode(record) : record
            let tag = try #require(record.names.first?.tag)

            // --format oci: skopeo copies it (manifest digest kept), umoci unpacks it.
            let oci = tmp.file("\(i).oci.tar")
            try SaveTests.write([record], .oci, to: oci)
            // skopeo 1.9 picks an image by org.opencontainers.image.ref.name (the tag).
            try PeerRunner.skopeoCopy("oci-archive:\(oci):\(tag)", "oci:\(tmp.file("copy-oci-\(i)")):x")
            #expect(try PeerRunner.skopeoConfigDigest("oci-archive:\(oci):\(tag)") == record.id)
            if !MediaType.isDocker(record.descriptor.mediaType) {
                #expect(SHA256Hasher.digest(try PeerRunner.skopeoRawManifest("oci-archive:\(oci):\(tag)")) == record.descriptor.digest)
            }
            let umociInput = zstd ? tmp.file("\(i).oci-gzip.tar") : oci
            if zstd { try SaveTests.write([gzipped], .oci, to: umociInput) }
            let layout = tmp.file("layout-\(i)")
            try PeerRunner.untar(umociInput, into: layout)
            let rootfs = try PeerRunner.umociUnpack(layout: layout, tag: tag, bundle: tmp.file("bundle-\(i)"))
            #expect(FS.isDirectory(rootfs))
            #expect(try !FS.listDirectory(rootfs).isEmpty)

            // --format docker: podman load, podman pull docker-archive:, skopeo both ways.
            let docker = tmp.file("\(i).docker.tar")
            try SaveTests.write([gzipped], .docker, to: docker)
            let loaded = try podman.load(docker)
            #expect(loaded.contains(record.names[0].description), "\(loaded)")
            let pulled = try podman.run(["pull", "-q", "docker-archive:\(docker)"])
            // One line per RepoTag, each the image ID.
            let pulledIDs = Set(pulled.split(separator: "\n").map { $0.hasPrefix("sha256:") ? String($0) : "sha256:" + $0 })
            #expect(pulledIDs == [record.id.description], "\(pulled)")
            let ids = try podman.images().map(\.id)
            #expect(ids.contains(record.id.description), "\(ids)")
            try PeerRunner.skopeoCopy("docker-archive:\(docker)", "oci:\(tmp.file("copy-docker-\(i)")):x")
            #expect(try PeerRunner.skopeoConfigDigest("docker-archive:\(docker)") == record.id)
            try PeerRunner.skopeoCopy("oci-archive:\(docker):\(tag)", "oci:\(tmp.file("copy-hybrid-\(i)")):x")
            #expect(try PeerRunner.skopeoConfigDigest("oci-archive:\(docker):\(tag)") == record.id)
        }
    }

    @Test("several images in one docker archive: podman loads all, skopeo reads each @N")
    func multiImage() throws {
        let tmp = try TempDir(prefix: "ocitool-save-peer-multi")
        let (store, _) = try SaveTests.loadFresh(Fixtures.testImagesDir + "/podman-multi-docker.tar", in: tmp)
        for extra in ["podman-oci.tar", "umoci-whiteout-docker.tar"] {
            _ = try ImageOps.load(Fixtures.testImagesDir + "/" + extra, into: store)
        }
        // podman-oci goes in without a name (as if saved by ID).
        let records = try SaveTests.records(store).map { r in
            r.names.contains(where: { $0.path.hasSuffix("podman-oci") }) ? r.named([]) : r
        }
        #expect(records.count == 4)
        #expect(records.contains { $0.names.isEmpty }, "an untagged image is part of the set")
        let out = tmp.file("multi.tar")
        try SaveTests.write(records, .docker, to: out)
        let podman = try PeerRunner.Podman()
        defer { podman.cleanup() }
        _ = try podman.load(out)
        let images = try podman.images()
        #expect(Set(images.map(\.id)) == Set(records.map(\.id.description)))
        for r in records where !r.names.isEmpty {
            let got = images.first { $0.id == r.id.description }?.names ?? []
            #expect(Set(got) == Set(r.names.map(\.description)), "\(got)")
        }
        for (i, r) in records.enumerated() {
            #expect(try PeerRunner.skopeoConfigDigest("docker-archive:\(out):@\(i)") == r.id)
            try PeerRunner.skopeoCopy("docker-archive:\(out):@\(i)", "oci:\(tmp.file("copy-\(i)")):x")
        }
        // What a pre-25 docker load sees: manifest.json alone (no OCI layout files).
        let legacy = tmp.file("legacy.tar")
        try FS.writeAtomically(legacy, bytes: try FS.readFile(out))
        // -b 1: GNU tar --delete misplaces data in archives not padded to its 10 KiB record (podman's too).
        let strip = try Shell.run(["tar", "-b", "1", "--delete", "-f", legacy, "index.json", "oci-layout"])
        #expect(strip.status == 0, "\(strip.stderr)")
        let (_, fromLegacy) = try SaveTests.loadFresh(legacy, in: tmp, root: "legacy")
        #expect(Set(fromLegacy.images.map(\.id)) == Set(records.map(\.id)))
        let podman2 = try PeerRunner.Podman()
        defer { podman2.cleanup() }
        _ = try podman2.load(legacy)
        #expect(Set(try podman2.images().map(\.id)) == Set(records.map(\.id.description)))
    }

    @Test("an image saved by ID (no names) loads in podman and skopeo")
    func untagged() throws {
        let tmp = try TempDir(prefix: "ocitool-save-peer-id")
        let root = tmp.file("root")
        #expect(try OCIToolBinary.run(["load", "-q", "--root", root, Fixtures.testImagesDir + "/podman-oci.tar"]).status == 0)
        let record = try #require(try SaveTests.records(ImageStore(root: root)).first)
        let out = tmp.file("id.tar")
        let r = try OCIToolBinary.run(["save", "--root", root, "-o", out, record.id.description])
        #expect(r.status == 0, "\(r.stderr)")
        let podman = try PeerRunner.Podman()
        defer { podman.cleanup() }
        _ = try podman.load(out)
        #expect(try podman.images().map(\.id) == [record.id.description])
        #expect(try PeerRunner.skopeoConfigDigest("docker-archive:\(out)") == record.id)
        #expect(try PeerRunner.skopeoConfigDigest("oci-archive:\(out)") == record.id)
    }
}
