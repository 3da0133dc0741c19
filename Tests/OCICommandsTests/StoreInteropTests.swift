import Foundation
import Testing
import OCICore
import OCITestSupport

// The store as peers read it (issue #10; ARCHITECTURE.md "The store on
// disk"): one index.json descriptor per full name, an OCI companion for
// Docker-typed images, one `NAME@os-arch` alias per platform of a
// multi-platform image. The commands, for README (ROOT is the store,
// `--root ROOT` or $OCITOOL_ROOT):
//
//   # two repositories with the same tag
//   ocitool copy --root ROOT TestImages/podman-docker.tar store:a/x:v1
//   ocitool copy --root ROOT TestImages/podman-oci.tar store:b/x:v1
//   skopeo inspect oci:ROOT:docker.io/a/x:v1
//   skopeo inspect oci:ROOT:docker.io/b/x:v1
//   umoci stat --image ROOT:docker.io/a/x:v1
//   umoci stat --image ROOT:docker.io/b/x:v1
//
//   # a multi-platform image (linux/amd64, linux/arm64, attestations)
//   ocitool load --root ROOT ../shared/corpus/apple-containerization/scratch.tar
//   skopeo inspect oci:ROOT:registry.local/integration-tests/scratch:latest            # this machine's platform
//   skopeo --override-os linux --override-arch arm64 inspect oci:ROOT:registry.local/integration-tests/scratch:latest
//   skopeo inspect --raw oci:ROOT:registry.local/integration-tests/scratch:latest@linux-arm64   # one platform's manifest
//   umoci stat --image ROOT:registry.local/integration-tests/scratch:latest@linux-amd64
//   umoci stat --image ROOT:registry.local/integration-tests/scratch:latest@linux-arm64
//
//   # a Docker-typed image (Docker v2s2 manifest in an OCI layout; linux/arm64)
//   ocitool copy --root ROOT oci:../shared/corpus/singularity/hello-world-docker-v2-manifest store:hello:docker
//   skopeo --override-arch arm64 inspect oci:ROOT:docker.io/library/hello:docker    # reads the OCI companion
//   umoci stat --image ROOT:docker.io/library/hello:docker                          # likewise
//   ocitool save --root ROOT -o hello.tar hello:docker                              # the original Docker manifest, digest unchanged
//   skopeo --override-arch arm64 inspect --raw oci-archive:hello.tar

@Suite("store interop: skopeo and umoci read the store as ocitool writes it")
struct StoreInteropTests {
    /// History of `umoci stat --json`: layer digests and diff_ids of the entries with a layer.
    static func umociLayers(_ image: String) throws -> (layers: [String], diffIDs: [String]) {
        let r = try Shell.run(["umoci", "stat", "--json", "--image", image])
        try #require(r.status == 0, "umoci stat --image \(image): \(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: Any])
        let history = o["history"] as? [[String: Any]] ?? []
        let withLayer = history.filter { $0["layer"] is [String: Any] }
        return (withLayer.compactMap { ($0["layer"] as? [String: Any])?["digest"] as? String }, withLayer.compactMap { $0["diff_id"] as? String })
    }

    @Test func twoRepositoriesWithTheSameTag() throws {
        try Required.tools("skopeo", "umoci")
        let tmp = try TempDir(prefix: "ocitool-interop")
        let cli = OCIToolCLI(root: tmp.file("store"), tmpdir: tmp.file("tmp"))
        let docker = try Required.testImage("podman-docker.tar"), oci = try Required.testImage("podman-oci.tar")
        let wantA = try PeerView.skopeo("docker-archive:\(docker)"), wantB = try PeerView.skopeo("oci-archive:\(oci)")
        try #require(wantA.configDigest != wantB.configDigest, "the two inputs must be different images")
        try cli.ok("copy", [docker, "store:a/x:v1"])
        try cli.ok("copy", [oci, "store:b/x:v1"])

        for (name, want) in [("docker.io/a/x:v1", wantA), ("docker.io/b/x:v1", wantB)] {
            let got = try PeerView.skopeo("oci:\(cli.root):\(name)")
            #expect(got.configDigest == want.configDigest, "skopeo reads another image at \(name)")
            #expect(got.diffIDs == want.diffIDs)
            let u = try Self.umociLayers("\(cli.root):\(name)")
            #expect(u.diffIDs == want.diffIDs, "umoci at \(name): \(u.diffIDs)")
            #expect(u.layers == got.layerDigests, "umoci at \(name): layers")
            let inspect = try JSONSerialization.jsonObject(with: Data(cli.ok("inspect", [name]).stdout)) as? [[String: Any]]
            #expect(inspect?.first?["Id"] as? String == want.configDigest.description)
        }
        // Untagging one leaves the other as it was.
        try cli.ok("rmi", ["a/x:v1"])
        #expect(try Shell.run(["skopeo", "inspect", "oci:\(cli.root):docker.io/a/x:v1"]).status != 0, "a/x:v1 still found after rmi")
        #expect(try PeerView.skopeo("oci:\(cli.root):docker.io/b/x:v1").configDigest == wantB.configDigest)
        #expect(try Self.umociLayers("\(cli.root):docker.io/b/x:v1").diffIDs == wantB.diffIDs)
    }

    @Test func multiPlatformImage() throws {
        try Required.tools("skopeo", "umoci")
        let input = try Required.corpus("apple-containerization/scratch.tar")
        let tmp = try TempDir(prefix: "ocitool-interop-multi")
        let cli = OCIToolCLI(root: tmp.file("store"), tmpdir: tmp.file("tmp"))
        let name = "registry.local/integration-tests/scratch:latest"
        #expect(try cli.ok("load", [input]).stdoutText == "Loaded image: \(name)\n")

        // What the input holds, per skopeo: the index and one manifest per platform.
        let index = try PeerRunner.skopeo(["inspect", "--raw", "oci-archive:\(input)"]).stdout
        let children = (try JSONSerialization.jsonObject(with: Data(index)) as? [String: Any])?["manifests"] as? [[String: Any]] ?? []
        var manifests: [String: String] = [:]
        for c in children {
            guard let p = c["platform"] as? [String: Any], let os = p["os"] as? String, let arch = p["architecture"] as? String,
                  os != "unknown", let d = c["digest"] as? String else { continue }
            manifests["\(os)/\(arch)"] = d
        }
        try #require(Set(manifests.keys) == ["linux/amd64", "linux/arm64"], "scratch.tar: \(manifests)")
        #expect(try PeerRunner.skopeoRawManifest("oci:\(cli.root):\(name)") == index, "the store's index is not the input's")

        for arch in ["amd64", "arm64"] {
            let flags = ["--override-os", "linux", "--override-arch", arch]
            let want = try PeerView.skopeo("oci-archive:\(input)", globalFlags: flags)
            let got = try PeerView.skopeo("oci:\(cli.root):\(name)", globalFlags: flags)
            #expect(got.configDigest == want.configDigest, "linux/\(arch): skopeo reads another config")
            #expect(got.diffIDs == want.diffIDs)
            // The per-platform alias: the platform's own manifest, for skopeo and umoci.
            let alias = "\(name)@linux-\(arch)"
            let raw = try PeerRunner.skopeoRawManifest("oci:\(cli.root):\(alias)")
            #expect(SHA256Hasher.digest(raw).description == manifests["linux/\(arch)"], "\(alias): not the linux/\(arch) manifest")
            let u = try Self.umociLayers("\(cli.root):\(alias)")
            #expect(u.diffIDs == want.diffIDs, "umoci \(alias): \(u.diffIDs)")
            // ocitool picks the same platform.
            let inspect = try JSONSerialization.jsonObject(with: Data(cli.ok("inspect", ["--platform", "linux/\(arch)", name]).stdout)) as? [[String: Any]]
            #expect(((inspect?.first?["OCITool"] as? [String: Any])?["ManifestDigest"] as? String) == manifests["linux/\(arch)"])
        }
        // The name itself is ambiguous to umoci (an index): only the aliases address one platform.
        #expect(try Shell.run(["umoci", "stat", "--image", "\(cli.root):\(name)"]).status != 0)
    }

    @Test func dockerTypedImage() throws {
        try Required.tools("skopeo", "umoci")
        let layout = try Required.corpus("singularity/hello-world-docker-v2-manifest")
        let tmp = try TempDir(prefix: "ocitool-interop-docker")
        let cli = OCIToolCLI(root: tmp.file("store"), tmpdir: tmp.file("tmp"))
        let arm = ["--override-arch", "arm64"]  // the input is linux/arm64 only
        let want = try PeerView.skopeo("oci:\(layout)", globalFlags: arm)
        try #require(want.manifestMediaType == "application/vnd.docker.distribution.manifest.v2+json")
        try cli.ok("copy", ["oci:\(layout)", "store:hello:docker"])
        let name = "docker.io/library/hello:docker"

        // Peers read the OCI companion: OCI types, the same config bytes and layer blobs.
        let companion = try PeerView.skopeo("oci:\(cli.root):\(name)", globalFlags: arm)
        #expect(companion.manifestMediaType == "application/vnd.oci.image.manifest.v1+json")
        #expect(companion.configDigest == want.configDigest, "the companion has another config")
        #expect(companion.layerDigests == want.layerDigests && companion.diffIDs == want.diffIDs)
        #expect(companion.layerMediaTypes.allSatisfy { $0.hasPrefix("application/vnd.oci.image.layer.") }, "\(companion.layerMediaTypes)")
        let u = try Self.umociLayers("\(cli.root):\(name)")
        #expect(u.layers == want.layerDigests && u.diffIDs == want.diffIDs, "umoci: \(u)")
        // The index entry says which original it stands for.
        let index = try JSONSerialization.jsonObject(with: Data(FS.readFile(cli.root + "/index.json"))) as? [String: Any]
        let entry = (index?["manifests"] as? [[String: Any]])?.first {
            ($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == name
        }
        #expect((entry?["annotations"] as? [String: String])?["io.ocitool.original.digest"] == want.manifestDigest.description)
        #expect(entry?["digest"] as? String == companion.manifestDigest.description)

        // ocitool itself reads the original: manifest, digest, and save keep the Docker manifest.
        #expect(try cli.ok("manifest", [name]).stdout == want.manifest)
        #expect(try cli.ok("digest", [name]).stdoutText == want.manifestDigest.description + "\n")
        try cli.ok("save", ["-o", tmp.file("hello.tar"), "hello:docker"])
        let saved = try PeerView.skopeo("oci-archive:\(tmp.file("hello.tar"))", globalFlags: arm)
        #expect(saved.manifestDigest == want.manifestDigest, "save rewrote the Docker manifest")
        #expect(saved.manifest == want.manifest)
        // --format oci converts, to the manifest peers already read in the store.
        try cli.ok("save", ["--format", "oci", "-o", tmp.file("hello-oci.tar"), "hello:docker"])
        let converted = try PeerView.skopeo("oci-archive:\(tmp.file("hello-oci.tar"))", globalFlags: arm)
        #expect(converted.manifestDigest == companion.manifestDigest, "two conversions of one image differ")
    }
}
