import Foundation
import Testing
import OCITool
import OCITestSupport

/// The getting-started article's code (Sources/OCITool/OCITool.docc/GettingStarted.md),
/// run through `import OCITool` alone, with its results checked against skopeo.
@Suite("library: getting started")
struct GettingStartedTests {
    @Test func readConvertAndLoad() throws {
        let tmp = try TempDir(prefix: "ocitool-library")
        let archive = Fixtures.testImagesDir + "/podman-docker.tar"
        let store = ImageStore(root: tmp.file("my-store"))
        let context = TransportContext(store: store)
        let reader = try ImageReader(archive, context: context)
        defer { reader.close() }

        let image = try reader.image()
        let config = try PeerRunner.skopeoConfigDigest("docker-archive:\(archive)")
        #expect(image.id == config)
        #expect(image.layers.count == image.diffIDs.count && !image.layers.isEmpty)
        #expect((image.config.history?.count ?? 0) >= image.layers.count)
        #expect(SHA256Hasher.digest(image.manifest.bytes) == image.digest)

        var options = ImageCopy.Options()
        options.recode = RecodePlan(target: .zstd)
        let out = tmp.file("app-oci.tar")
        let report = try ImageCopy.copy(
            from: try TransportReference.source(archive).openSource(context),
            to: try TransportReference.destination("oci-archive:\(out)").openDestination(context),
            options: options)
        let written = try #require(report.images.first)
        #expect(SHA256Hasher.digest(try PeerRunner.skopeoRawManifest("oci-archive:\(out)")) == written.manifestDigest)
        #expect(try PeerRunner.skopeoConfigDigest("oci-archive:\(out)") == image.id)

        try ImageCopy.copy(from: ArchiveSource(.path(out)), to: try StoreDestination(store: store))
        let stored = try store.resolve("localhost/ocitool-test/podman-docker:v1")
        #expect(stored.id == image.id)
        #expect(stored.digest == written.manifestDigest)
    }
}
