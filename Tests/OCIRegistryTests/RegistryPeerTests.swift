import Foundation
import Testing
import OCICore
import OCIModel
import OCIStore
import OCIRegistryTestSupport
import OCITestSupport

/// skopeo as the judge of what `ocitool push` / `copy` write to a
/// registry, and as the writer of what `ocitool pull` reads.
@Suite("CLI: ocitool and skopeo through a registry")
struct RegistryPeerTests {
    @Test(arguments: ["podman-docker.tar", "skopeo-oci-gzip.tar", "skopeo-oci-zstd.tar", "umoci-whiteout-oci.tar"])
    func skopeoPullsWhatOcitoolPushed(fixture: String) throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-peer-push")
        let store = tmp.file("store")
        try CLI.ok(["load", "-q", "--root", store, Fixtures.testImagesDir + "/" + fixture], in: tmp)
        let local = try #require(try ImageOps.images(in: ImageStore(root: store)).first)
        let ref = "docker://\(registry.host)/peer/\(fixture.replacingOccurrences(of: ".tar", with: "")):1"
        try CLI.ok(["push", "--root", store, local.id.description, String(ref.dropFirst("docker://".count))], in: tmp)
        // skopeo copies it out, verifying every blob; manifest and config digests are ocitool's.
        let out = tmp.file("out")
        try CLI.skopeo(["copy", "-q", "--src-tls-verify=false", "--dest-oci-accept-uncompressed-layers", ref, "oci:\(out):x"])
        let index = try IndexManifest.parse(try FS.readFile(out + "/index.json"), what: "index.json")
        #expect(index.manifests.first?.digest == local.digest)
        #expect(try CLI.configDigest(ref) == local.id)
        #expect(try CLI.rawManifest(ref) == local.manifest.bytes)
        for l in local.layers {
            #expect(FS.exists(out + "/blobs/sha256/\(l.digest.encoded)"))
        }
    }

    @Test func ocitoolPullsWhatSkopeoPushed() throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-peer-pull")
        for (fixture, source) in [("skopeo-docker.tar", "docker-archive:"), ("skopeo-oci-gzip.tar", "oci-archive:")] {
            let ref = "docker://\(registry.host)/skopeo/\(fixture.replacingOccurrences(of: ".tar", with: "")):1"
            try CLI.skopeo(["copy", "-q", "--dest-tls-verify=false", source + Fixtures.testImagesDir + "/" + fixture, ref])
            let raw = try CLI.rawManifest(ref)
            let store = tmp.file("store-\(fixture)")
            let bare = String(ref.dropFirst("docker://".count))
            let pulled = try CLI.ok(["pull", "--root", store, bare], in: tmp)
            #expect(pulled.stdoutText.contains("pulled \(SHA256Hasher.digest(raw))"), "\(pulled.stdoutText)")
            let image = try ImageOps.resolve(bare, in: ImageStore(root: store))
            #expect(image.manifest.bytes == raw)
            #expect(image.id == (try CLI.configDigest(ref)))
            // And back out as an archive skopeo reads with the same digests.
            let archive = tmp.file("back-\(fixture)")
            try CLI.ok(["save", "--root", store, "--format", "oci", "-o", archive, bare], in: tmp)
            #expect(try PeerRunner.skopeoConfigDigest("oci-archive:\(archive)") == image.id)
            #expect(fsckClean(store, tmp))
        }
    }

    /// `ocitool fsck` finds nothing wrong with the store.
    func fsckClean(_ store: String, _ tmp: TempDir) -> Bool {
        (try? CLI.run(["fsck", "--root", store], in: tmp).status) == 0
    }
}
