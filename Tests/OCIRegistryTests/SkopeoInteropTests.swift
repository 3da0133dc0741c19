import Foundation
import Testing
import OCICore
import OCIModel
import OCIRegistry
import OCIRegistryTestSupport
import OCITestSupport

/// skopeo as the oracle: what it pushes the client reads back with the
/// same digests, and what the client pushes skopeo reads byte for byte.
@Suite("Registry client vs skopeo")
struct SkopeoInteropTests {
    func skopeo(_ args: [String]) throws -> Shell.Result {
        guard Shell.has("skopeo") else { throw TestSupportError("skopeo not found: install Debian's skopeo (make deps)") }
        return try PeerRunner.skopeo(args)
    }

    @Test func clientReadsWhatSkopeoPushed() throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let ref = "docker://\(registry.host)/peer/skopeo:1"
        try skopeo(["copy", "-q", "--dest-tls-verify=false", "docker-archive:\(Fixtures.testImagesDir)/skopeo-docker.tar", ref])
        let raw = try skopeo(["inspect", "--raw", "--tls-verify=false", ref]).stdout
        let client = try RegistryClient(registry: registry.host, options: plainOptions())
        defer { client.shutdown() }
        let m = try client.manifest(repository: "peer/skopeo", reference: "1")
        #expect(m.bytes == raw)
        #expect(m.digest == SHA256Hasher.digest(raw))
        #expect(m.mediaType == MediaType.dockerManifest)
        let head = try #require(try client.manifestDescriptor(repository: "peer/skopeo", reference: "1"))
        #expect(head.digest == m.digest)
        // Every blob comes back verified, and the config is what skopeo reads.
        let manifest = try Manifest.parse(m.bytes, what: "manifest")
        let config = try fetchToMemory(client, "peer/skopeo", manifest.config)
        #expect(config == (try skopeo(["inspect", "--config", "--raw", "--tls-verify=false", ref]).stdout))
        for layer in manifest.layers {
            #expect(try fetchToMemory(client, "peer/skopeo", layer).count == Int(layer.size))
        }
        #expect(try client.tags(repository: "peer/skopeo") == ["1"])
    }

    @Test func skopeoReadsWhatTheClientPushed() throws {
        let registry = try DistributionRegistry()
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-peer")
        let layout = tmp.file("layout")
        try PeerRunner.untar(Fixtures.testImagesDir + "/skopeo-oci-gzip.tar", into: layout)
        let index = try IndexManifest.parse(try FS.readFile(layout + "/index.json"), what: "index.json")
        let top = try #require(index.manifests.first)
        func blob(_ d: Digest) -> String { layout + "/blobs/\(d.algorithm)/\(d.encoded)" }
        let manifestBytes = try FS.readFile(blob(top.digest))
        let manifest = try Manifest.parse(manifestBytes, what: "manifest")
        var o = plainOptions()
        o.chunkSize = 4096  // force chunked uploads for the larger layers
        o.monolithicLimit = 8192
        let client = try RegistryClient(registry: registry.host, options: o)
        defer { client.shutdown() }
        for d in [manifest.config] + manifest.layers {
            _ = try client.pushBlob(repository: "peer/pushed", descriptor: d, file: blob(d.digest))
        }
        let digest = try client.putManifest(repository: "peer/pushed", reference: "v1", mediaType: top.mediaType, bytes: manifestBytes)
        #expect(digest == top.digest)
        let ref = "docker://\(registry.host)/peer/pushed:v1"
        #expect(try skopeo(["inspect", "--raw", "--tls-verify=false", ref]).stdout == manifestBytes)
        // skopeo copies it out, verifying every blob.
        try skopeo(["copy", "-q", "--src-tls-verify=false", ref, "oci:\(tmp.file("out")):v1"])
        for d in [manifest.config] + manifest.layers {
            #expect(try FS.readFile(tmp.file("out") + "/blobs/sha256/\(d.digest.encoded)") == (try FS.readFile(blob(d.digest))))
        }
    }
}
