import Foundation
import Testing
import OCICore
import OCITestSupport

/// Multi-platform inputs from the shared corpus: `--platform` keeps one,
/// `--all-platforms` keeps every platform present as one index per image,
/// never listing a platform whose blobs are absent. skopeo (`copy --all`,
/// which fetches every manifest the index lists) is the judge.
@Suite("CLI: convert platforms", .enabled(if: FS.isDirectory(Fixtures.corpusDir)))
struct ConvertPlatformTests {
    static let corpus = Fixtures.corpusDir
    /// BuildKit/containerd OCI layout directory: linux/amd64 + linux/arm64.
    static let twoPlatforms = corpus + "/stereoscope/multiplatform_oci_dir"
    /// BuildKit export: two platforms and two attestation manifests.
    static let withAttestations = corpus + "/apple-containerization/scratch.tar"
    /// containerd export: a Docker manifest list naming 11 platforms, 1 present.
    static let sparse = corpus + "/oras-go/hello-world.tar"

    static func convert(_ args: [String]) throws -> Shell.Result {
        try OCIToolBinary.run(["convert"] + args)
    }

    /// The index the single index.json entry points at.
    static func platformIndex(_ x: ArchiveOracle.Extracted) throws -> [String: Any] {
        try #require(x.indexEntries.count == 1, "\(x.indexEntries)")
        let data = try Data(contentsOf: URL(fileURLWithPath: x.blobPath(x.indexEntries[0].digest)))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func platforms(_ index: [String: Any]) -> [String] {
        ((index["manifests"] as? [[String: Any]]) ?? []).compactMap { m in
            guard let p = m["platform"] as? [String: Any], let os = p["os"] as? String, let arch = p["architecture"] as? String else { return nil }
            return "\(os)/\(arch)"
        }
    }

    @Test(arguments: ["oci", "docker"])
    func allPlatformsOfADirectory(format: String) throws {
        let tmp = try TempDir(prefix: "ocitool-convert-multi")
        let out = tmp.file("out.tar")
        let r = try Self.convert([Self.twoPlatforms, "--all-platforms", "--format", format, "--compress", "gzip", "-o", out])
        try #require(r.status == 0, "\(r.stderr)")
        let x = try ArchiveOracle.extract(out, into: tmp.file("x"))
        let index = try Self.platformIndex(x)
        #expect(Self.platforms(index).sorted() == ["linux/amd64", "linux/arm64"])
        #expect(x.indexEntries[0].name == "docker.io/library/multi-platform:latest")
        #expect(x.images.count == 2)
        #expect(try ArchiveOracle.verifyLayers(x).isEmpty)
        try PeerRunner.skopeo(["copy", "-q", "--all", "oci-archive:\(out):latest", "oci:\(tmp.file("copy")):x"])
        let raw = try PeerRunner.skopeoRawManifest("oci-archive:\(out):latest")
        #expect(SHA256Hasher.digest(raw).description == x.indexEntries[0].digest)
        if format == "docker" {
            // manifest.json: one entry per platform, the tags on the first only.
            #expect(x.dockerEntries.count == 2)
            #expect(x.dockerEntries.map(\.repoTags) == [["multi-platform:latest"], []])
        }
    }

    @Test func allPlatformsUnchangedKeepsTheIndexBytes() throws {
        let tmp = try TempDir(prefix: "ocitool-convert-multi-keep")
        let out = tmp.file("out.tar")
        let r = try Self.convert([Self.twoPlatforms, "--all-platforms", "--format", "oci", "-o", out])
        try #require(r.status == 0, "\(r.stderr)")
        let x = try ArchiveOracle.extract(out, into: tmp.file("x"))
        // Nothing changed: the index is the original blob, digest and all.
        let original = try Data(contentsOf: URL(fileURLWithPath: Self.twoPlatforms + "/index.json"))
        let top = try #require(try JSONSerialization.jsonObject(with: original) as? [String: Any])
        let digest = ((top["manifests"] as? [[String: Any]])?.first?["digest"] as? String)
        #expect(x.indexEntries.first?.digest == digest)
    }

    @Test func attestationsStayUnlessReencodingChangesTheirSubjects() throws {
        let tmp = try TempDir(prefix: "ocitool-convert-attest")
        // Nothing changes: the index, attestations and all, is the original blob.
        let kept = tmp.file("kept.tar")
        let k = try Self.convert([Self.withAttestations, "--all-platforms", "--format", "oci", "-o", kept])
        try #require(k.status == 0, "\(k.stderr)")
        let xk = try ArchiveOracle.extract(kept, into: tmp.file("xk"))
        let original = try ArchiveOracle.extract(Self.withAttestations, into: tmp.file("orig"))
        #expect(xk.indexEntries.first?.digest == original.indexEntries.first?.digest)
        #expect(Self.platforms(try Self.platformIndex(xk)).sorted() == ["linux/amd64", "linux/arm64", "unknown/unknown", "unknown/unknown"])
        // Re-encoding changes the image manifests the attestations name: they are dropped, and said so.
        let out = tmp.file("out.tar")
        let r = try Self.convert([Self.withAttestations, "--all-platforms", "--format", "oci", "--compress", "zstd",
                                  "--progress", "plain", "-o", out])
        try #require(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("attestation"), "\(r.stderr)")
        let x = try ArchiveOracle.extract(out, into: tmp.file("x"))
        #expect(Self.platforms(try Self.platformIndex(x)).sorted() == ["linux/amd64", "linux/arm64"])
        try PeerRunner.skopeo(["copy", "-q", "--all", "oci-archive:\(out):latest", "oci:\(tmp.file("copy")):x"])
    }

    @Test func sparseIndexIsPruned() throws {
        let tmp = try TempDir(prefix: "ocitool-convert-sparse")
        let out = tmp.file("out.tar")
        let r = try Self.convert([Self.sparse, "--all-platforms", "--format", "oci", "-o", out])
        try #require(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("left out of the index") && r.stderr.contains("manifest absent"), "\(r.stderr)")
        let x = try ArchiveOracle.extract(out, into: tmp.file("x"))
        let index = try Self.platformIndex(x)
        #expect((index["manifests"] as? [Any])?.count == 1)
        #expect(index["mediaType"] as? String == "application/vnd.oci.image.index.v1+json")
        #expect(x.images.count == 1)
        for m in (index["manifests"] as? [[String: Any]]) ?? [] {
            #expect(FS.exists(x.blobPath(m["digest"] as? String ?? "")), "every listed manifest is in the archive")
        }
        try PeerRunner.skopeo(["copy", "-q", "--all", "oci-archive:\(out):latest", "oci:\(tmp.file("copy")):x"])
    }

    @Test(arguments: ["linux/arm64", "linux/amd64"])
    func onePlatform(platform: String) throws {
        let tmp = try TempDir(prefix: "ocitool-convert-one")
        let out = tmp.file("out.tar")
        let r = try Self.convert([Self.twoPlatforms, "--platform", platform, "--format", "docker", "-o", out])
        try #require(r.status == 0, "\(r.stderr)")
        let x = try ArchiveOracle.extract(out, into: tmp.file("x"))
        #expect(x.images.count == 1)
        #expect(x.images.first?.platform == platform)
        let config = try PeerRunner.skopeo(["inspect", "--config", "docker-archive:\(out)"]).stdoutText
        #expect(config.contains("\"architecture\": \"\(platform.split(separator: "/")[1])\""), "\(config)")
        let missing = try Self.convert([Self.twoPlatforms, "--platform", "linux/s390x", "--format", "oci", "-o", tmp.file("no.tar")])
        #expect(missing.status == 1 && missing.stderr.contains("linux/s390x"), "\(missing.stderr)")
        #expect(!FS.exists(tmp.file("no.tar")))
    }
}
