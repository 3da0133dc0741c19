import Foundation
import Testing
import OCICore
import OCIModel
import OCIStore
import OCIRegistryTestSupport
import OCITestSupport

/// `pull`, `push` and `copy docker://…` end to end against distribution
/// 2.8.2 (plain HTTP on 127.0.0.1), skopeo reading what ocitool wrote.
@Suite("CLI: pull, push, copy with a registry")
struct RegistryCommandTests {
    static let fixture = Fixtures.testImagesDir + "/podman-docker.tar"
    static let fixtureName = "localhost/ocitool-test/podman-docker:v1"
    /// BuildKit OCI layout: linux/amd64 + linux/arm64 under one index.
    static let multiPlatform = Fixtures.corpusDir + "/stereoscope/multiplatform_oci_dir"

    @Test func pushThenPushAgainThenPull() throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-push")
        let store = tmp.file("store")
        try CLI.ok(["load", "-q", "--root", store, Self.fixture], in: tmp)
        let ref = "\(registry.host)/cli/podman:v1"
        let first = try CLI.ok(["push", "--root", store, "--progress", "json", Self.fixtureName, ref], in: tmp)
        let local = try ImageOps.resolve(Self.fixtureName, in: ImageStore(root: store))
        // Every blob uploaded once, the manifest byte for byte.
        #expect(CLI.tasks(first, phase: "push") == Set(local.blobDigests.dropFirst().map(\.description)))
        #expect(Set(CLI.blobEvents(first)) == Set(local.blobDigests.dropFirst().map(\.description)))
        #expect(try CLI.rawManifest("docker://\(ref)") == local.manifest.bytes)
        #expect(first.stdoutText.contains("digest: \(local.digest)"), "\(first.stdoutText)")
        // Everything is there: nothing uploaded, no blob even looked at.
        let second = try CLI.ok(["push", "--root", store, "--progress", "json", Self.fixtureName, ref], in: tmp)
        #expect(CLI.tasks(second, phase: "push").isEmpty)
        #expect(CLI.blobEvents(second).isEmpty)
        // A new tag of the same image: only the tag is written.
        let retag = try CLI.ok(["push", "--root", store, "--progress", "json", Self.fixtureName, "\(registry.host)/cli/podman:v2"], in: tmp)
        #expect(CLI.tasks(retag, phase: "push").isEmpty)
        #expect(try CLI.rawManifest("docker://\(registry.host)/cli/podman:v2") == local.manifest.bytes)

        // Pull into a new store: same digests, every blob fetched and verified.
        let other = tmp.file("other")
        let pulled = try CLI.ok(["pull", "--root", other, "--progress", "json", ref], in: tmp)
        #expect(CLI.tasks(pulled, phase: "fetch") == Set(local.layers.map(\.digest.description)))
        #expect(Set(CLI.blobEvents(pulled)) == Set(local.layers.map(\.digest.description)))
        let back = try ImageOps.resolve(ref, in: ImageStore(root: other))
        #expect(back.digest == local.digest && back.id == local.id && back.layers.map(\.digest) == local.layers.map(\.digest))
        // Pulling again fetches nothing.
        let again = try CLI.ok(["pull", "--root", other, "--progress", "json", ref], in: tmp)
        #expect(CLI.tasks(again, phase: "fetch").isEmpty)
    }

    @Test func multiPlatformIndexesStayWhole() throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-multi")
        let indexDigest = try Self.topDigest(of: Self.multiPlatform)
        let a = "docker://\(registry.host)/multi/a:1", b = "docker://\(registry.host)/multi/b:1"
        try CLI.ok(["copy", "--all-platforms", Self.multiPlatform, a], in: tmp)
        #expect(SHA256Hasher.digest(try CLI.rawManifest(a)) == indexDigest)
        // Registry to registry: the index digest kept, blobs mounted.
        let copy = try CLI.ok(["copy", "--all", "--progress", "json", a, b], in: tmp)
        #expect(SHA256Hasher.digest(try CLI.rawManifest(b)) == indexDigest)
        #expect(CLI.tasks(copy, phase: "fetch").isEmpty && CLI.tasks(copy, phase: "push").isEmpty)
        // One platform: that platform's manifest, as skopeo reads it from the index.
        let arm = "docker://\(registry.host)/multi/arm:1"
        try CLI.ok(["copy", "--platform", "linux/arm64", a, arm], in: tmp)
        let armRaw = try CLI.rawManifest(arm)
        let index = try IndexManifest.parse(try CLI.rawManifest(a), what: "index")
        let armEntry = try #require(index.manifests.first { $0.platform?.architecture == "arm64" })
        #expect(SHA256Hasher.digest(armRaw) == armEntry.digest)
        // pull stores every platform; --platform one.
        let store = tmp.file("store")
        let pulled = try CLI.ok(["pull", "--root", store, String(a.dropFirst("docker://".count))], in: tmp)
        #expect(pulled.stdoutText.contains("pulled \(indexDigest)"), "\(pulled.stdoutText)")
        let images = try CLI.ok(["images", "--root", store, "--digests", "--no-trunc"], in: tmp).stdoutText
        #expect(images.contains(indexDigest.description), "\(images)")
        let one = tmp.file("one")
        try CLI.ok(["pull", "--root", one, "--platform", "linux/arm64", String(a.dropFirst("docker://".count))], in: tmp)
        let listed = try CLI.ok(["images", "--root", one, "--digests", "--no-trunc"], in: tmp).stdoutText
        #expect(listed.contains(armEntry.digest.description) && !listed.contains(indexDigest.description), "\(listed)")
    }

    /// The digest of the single image or index an OCI layout's index.json names.
    static func topDigest(of layout: String) throws -> Digest {
        let index = try IndexManifest.parse(try FS.readFile(layout + "/index.json"), what: "index.json")
        return try #require(index.manifests.first).digest
    }

    @Test func stdinToRegistryAndArchiveRoundTripKeepEveryDigest() throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-roundtrip")
        let input = Fixtures.testImagesDir + "/skopeo-oci-gzip.tar"
        let original = try ImageDigests.archive(try ArchiveOracle.extract(input, into: tmp.file("in")))
        let ref = "docker://\(registry.host)/round/trip:1"
        try CLI.ok(["copy", "-", ref], in: tmp, stdinFile: input)
        #expect(try ImageDigests.registry(ref) == original)
        // registry → archive → registry.
        let out = tmp.file("out.tar")
        try CLI.ok(["copy", ref, "oci-archive:\(out)"], in: tmp)
        #expect(try ImageDigests.archive(try ArchiveOracle.extract(out, into: tmp.file("x"))) == original)
        let again = "docker://\(registry.host)/round/again:1"
        try CLI.ok(["copy", "oci-archive:\(out)", again], in: tmp)
        #expect(try ImageDigests.registry(again) == original)
        #expect(try CLI.rawManifest(again) == (try CLI.rawManifest(ref)))
        // A docker archive out and back: the same manifest bytes.
        let docker = tmp.file("docker.tar")
        try CLI.ok(["copy", ref, "docker-archive:\(docker):round/trip:1"], in: tmp)
        let third = "docker://\(registry.host)/round/third:1"
        try CLI.ok(["copy", docker, third], in: tmp)
        #expect(try ImageDigests.registry(third) == original)
    }

    @Test func copyWithinARegistryMountsAndFetchesNothing() throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-mount")
        let layout = tmp.file("layout")
        let layers = try SyntheticImage.layout(layout, layers: 3, size: 300_000, seed: 5)
        let a = "docker://\(registry.host)/mount/a:1", b = "docker://\(registry.host)/mount/b:1"
        let push = try CLI.ok(["copy", "--progress", "json", "--jobs", "1", "oci:\(layout):t", a], in: tmp)
        #expect(CLI.tasks(push, phase: "push").isSuperset(of: Set(layers.map(\.description))))
        let copy = try CLI.ok(["copy", "--progress", "json", "--jobs", "8", a, b], in: tmp)
        #expect(CLI.tasks(copy, phase: "fetch").isEmpty, "nothing downloaded")
        #expect(CLI.tasks(copy, phase: "push").isEmpty, "nothing uploaded: mounted")
        #expect(try ImageDigests.registry(b) == ImageDigests.registry(a))
        // distribution links each mounted layer into b's repository.
        for l in layers {
            #expect(FS.exists(registry.dir.file("data/docker/registry/v2/repositories/mount/b/_layers/sha256/\(l.encoded)/link")))
        }
        // To another registry: fetched once, uploaded once.
        let other = try DistributionRegistry()
        defer { other.stop() }
        let c = "docker://\(other.host)/mount/c:1"
        let across = try CLI.ok(["copy", "--progress", "json", a, c], in: tmp)
        #expect(CLI.tasks(across, phase: "fetch") == Set(layers.map(\.description)))
        #expect(CLI.tasks(across, phase: "push").isSuperset(of: Set(layers.map(\.description))))
        #expect(try ImageDigests.registry(c) == ImageDigests.registry(a))
    }

    @Test func errorsNameRegistryRepositoryAndCode() throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-errors")
        let store = tmp.file("store")
        let missing = try CLI.run(["pull", "--root", store, "\(registry.host)/no/such:tag"], in: tmp)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("registry \(registry.host), repository no/such, manifest tag: MANIFEST_UNKNOWN"), "\(missing.stderr)")
        #expect(missing.stderr.split(separator: "\n").count == 1)
        #expect(!FS.exists(store + "/index.json"), "a failed pull creates no image")
        let copy = try CLI.run(["copy", "docker://\(registry.host)/no/such:tag", tmp.file("out.tar")], in: tmp)
        #expect(copy.status == 1 && copy.stderr.contains("MANIFEST_UNKNOWN") && !FS.exists(tmp.file("out.tar")))
        let json = try CLI.run(["pull", "--root", store, "--progress", "json", "\(registry.host)/no/such:tag"], in: tmp)
        let error = CLI.events(json).first { $0["event"] as? String == "error" }
        #expect((error?["message"] as? String)?.contains("MANIFEST_UNKNOWN") == true, "\(json.stderr)")
        let refused = try CLI.run(["pull", "--root", store, "127.0.0.1:1/x/y:1"], in: tmp)
        #expect(refused.status == 1 && refused.stderr.contains("registry 127.0.0.1:1") && refused.stderr.contains("refused"), "\(refused.stderr)")
        let push = try CLI.run(["push", "--root", store, "nothing:here", "\(registry.host)/x/y:1"], in: tmp)
        #expect(push.status == 1 && push.stderr.contains("nothing:here"), "\(push.stderr)")
        let jobs = try CLI.run(["pull", "--root", store, "--jobs", "0", "\(registry.host)/x/y:1"], in: tmp)
        #expect(jobs.status == 64)
    }
}
