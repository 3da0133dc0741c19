import Foundation
import Testing
import OCICore
import OCIModel
import OCIRegistry
import OCIRegistryTestSupport
import OCITestSupport

/// Referrers (manifests whose `subject` names an image) follow the image
/// when it is copied between registries: through the referrers API where
/// the destination has it (FakeRegistry), through the `sha256-<hex>` tag
/// index where it does not (distribution 2.8.2).
@Suite("CLI: referrers kept by registry copies")
struct ReferrersCopyTests {
    static let sigType = "application/vnd.example.signature"
    static let sbomType = "application/vnd.example.sbom"

    /// An artifact manifest about `subject` in `fake`: an empty config, one layer.
    static func artifact(_ fake: FakeRegistry, repository: String, subject: Descriptor, type: String, payload: String) throws -> Descriptor {
        let empty = fake.addBlob(Array("{}".utf8), repository: repository)
        let layer = Array(payload.utf8)
        let layerDigest = fake.addBlob(layer, repository: repository)
        let manifest: [String: Any] = [
            "schemaVersion": 2, "mediaType": MediaType.ociManifest, "artifactType": type,
            "config": ["mediaType": "application/vnd.oci.empty.v1+json", "digest": empty.description, "size": 2],
            "layers": [["mediaType": "application/octet-stream", "digest": layerDigest.description, "size": layer.count]],
            "subject": ["mediaType": subject.mediaType, "digest": subject.digest.description, "size": subject.size],
            "annotations": ["org.example.payload": payload],
        ]
        let bytes = try CanonicalJSON.encode(object: manifest)
        let digest = fake.addManifest(bytes, mediaType: MediaType.ociManifest, repository: repository)
        var d = Descriptor(mediaType: MediaType.ociManifest, digest: digest, size: Int64(bytes.count))
        d.artifactType = type
        return d
    }

    @Test func referrersFollowThroughTheTagSchemaAndTheAPI() throws {
        let tmp = try TempDir(prefix: "ocitool-referrers")
        let source = try FakeRegistry()
        defer { source.stop() }
        let layout = tmp.file("layout")
        try SyntheticImage.layout(layout, layers: 1, size: 10_000, seed: 61)
        try FakeImages.add(layout: layout, to: source, repository: "app/img", tag: "1")
        let client = try fakeClient(source)
        defer { client.shutdown() }
        let image = try client.manifest(repository: "app/img", reference: "1").descriptor
        let sig = try Self.artifact(source, repository: "app/img", subject: image, type: Self.sigType, payload: "signed")
        let sbom = try Self.artifact(source, repository: "app/img", subject: image, type: Self.sbomType, payload: "sbom")
        // A signature of the SBOM: a referrer of a referrer.
        let sbomSig = try Self.artifact(source, repository: "app/img", subject: sbom, type: Self.sigType, payload: "sbom signed")

        // To distribution (no referrers API): manifests by digest, the tag index written.
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let dist = "docker://\(registry.host)/app/img:1"
        try CLI.ok(["copy", "--plain-http", "docker://\(source.host)/app/img:1", dist], in: tmp)
        let tagIndex = try IndexManifest.parse(try CLI.rawManifest("docker://\(registry.host)/app/img:\(RegistryClient.referrersTag(for: image.digest))"),
                                               what: "tag index")
        #expect(Set(tagIndex.manifests.map(\.digest)) == [sig.digest, sbom.digest])
        #expect(Set(tagIndex.manifests.compactMap(\.artifactType)) == [Self.sigType, Self.sbomType])
        let nested = try IndexManifest.parse(try CLI.rawManifest("docker://\(registry.host)/app/img:\(RegistryClient.referrersTag(for: sbom.digest))"),
                                             what: "tag index")
        #expect(nested.manifests.map(\.digest) == [sbomSig.digest])
        for d in [sig, sbom, sbomSig] {
            #expect(SHA256Hasher.digest(try CLI.rawManifest("docker://\(registry.host)/app/img@\(d.digest)")) == d.digest)
        }
        // Copying again changes nothing and lists nothing twice.
        try CLI.ok(["copy", "--plain-http", "docker://\(source.host)/app/img:1", dist], in: tmp)
        let again = try IndexManifest.parse(try CLI.rawManifest("docker://\(registry.host)/app/img:\(RegistryClient.referrersTag(for: image.digest))"),
                                            what: "tag index")
        #expect(again.manifests.count == 2)

        // From distribution (the tag schema) to a registry with the API: no tag index written there.
        let target = try FakeRegistry()
        defer { target.stop() }
        try CLI.ok(["copy", "--plain-http", dist, "docker://\(target.host)/copy/img:1"], in: tmp)
        let tc = try fakeClient(target)
        defer { tc.shutdown() }
        #expect(Set(try tc.referrers(repository: "copy/img", digest: image.digest).map(\.digest)) == [sig.digest, sbom.digest])
        #expect(try tc.referrers(repository: "copy/img", digest: sbom.digest).map(\.digest) == [sbomSig.digest])
        #expect(!target.requests.contains { $0.method == "PUT" && $0.path.contains("/manifests/sha256-") }, "the API indexes them itself")
        // A referrer's blobs came along.
        #expect(target.blob(try #require(try Manifest.parse(try tc.manifest(repository: "copy/img", reference: sig.digest.description).bytes,
                                                              what: "sig").layers.first).digest) == Array("signed".utf8))

        // --no-referrers: the image alone.
        let bare = try DistributionRegistry()
        defer { bare.stop() }
        try CLI.ok(["copy", "--plain-http", "--no-referrers", "docker://\(source.host)/app/img:1", "docker://\(bare.host)/app/img:1"], in: tmp)
        let none = try CLI.run(["pull", "--root", tmp.file("none"), "\(bare.host)/app/img:\(RegistryClient.referrersTag(for: image.digest))"], in: tmp)
        #expect(none.status == 1 && none.stderr.contains("MANIFEST_UNKNOWN"), "\(none.stderr)")
    }
}
