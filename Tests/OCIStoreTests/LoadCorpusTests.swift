import Foundation
import Testing
import OCICore
import OCIModel
import OCIStore
import OCIArchive
import OCIImage
import OCITestSupport

/// Corpus fixtures that are not marked NEGATIVE but that ocitool refuses on
/// purpose, with the words the error must contain.
let corpusRefusals: [String: String] = [
    "moby/emptyLayer.tar": "legacy docker save format",
    "skopeo/uncompressed-image-s1": "Docker schema 1 manifests are not supported",
    "gcr-layout/test_index_media_type": "no images found",
    "regclient/external": "no images found",
    // Configs without rootfs.diff_ids for a manifest with layers: not a valid image.
    "oras-cli-zot/artifacts": "config lists 0 diff_ids but the image has 1 layers",
    "oras-cli-zot/images": "config lists 0 diff_ids but the image has 1 layers",
    "regclient/testrepo": "config lists 0 diff_ids but the image has 1 layers",
]

/// The raw INDEX.md row of a fixture (for the skopeo column).
func corpusRow(_ path: String) -> String {
    guard let text = try? String(contentsOfFile: Fixtures.corpusDir + "/INDEX.md", encoding: .utf8) else { return "" }
    return text.split(separator: "\n").first { $0.hasPrefix("| `\(path)` |") }.map(String.init) ?? ""
}

@Suite("load: ../shared/corpus")
struct LoadCorpusTests {
    static let fixtures = Fixtures.corpusIndex.entries.map(\.path)

    @Test(arguments: fixtures)
    func corpusFixture(path: String) throws {
        let full = Fixtures.corpusDir + "/" + path
        guard FS.exists(full), let entry = Fixtures.corpusIndex.entry(for: path) else { return }
        let tmp = try TempDir(prefix: "ocitool-corpus")
        let store = ImageStore(root: tmp.file("root"))
        if entry.isNegative || corpusRefusals[path] != nil {
            // Seed the store with a good image, then check a failed load changes nothing.
            if let seed = TestImageInfo.all.first(where: { $0.outerCompression == "none" }) {
                _ = try ImageOps.load(seed.path, into: store)
            }
            let before = try TreeSnapshot(store.root)
            do {
                let r = try ImageOps.load(full, into: store)
                Issue.record("\(path) should fail, loaded \(r.images.count) image(s)")
            } catch {
                let message = "\(error)"
                #expect(!message.contains("\n"), "one-line error: \(message)")
                #expect(message.contains(path.split(separator: "/").last.map(String.init) ?? path), "error names the archive: \(message)")
                if let words = corpusRefusals[path] { #expect(message.contains(words), "\(message)") }
            }
            #expect(try TreeSnapshot(store.root) == before, "store changed by failed load of \(path)")
            return
        }
        let result = try ImageOps.load(full, into: store)
        #expect(!result.images.isEmpty)
        for image in result.images {
            #expect(image.config.diffIDs.count == image.manifest.layers.count)
            _ = try ImageOps.resolve(image.id.description, in: store)
        }
        // Peer check: skopeo reads the same config (image ID) where it can read the fixture.
        guard result.images.count == 1, let image = result.images.first else { return }
        let row = corpusRow(path)
        var transport: String?
        if row.contains("docker-archive: yes") { transport = "docker-archive:\(full)" }
        else if row.contains("oci-archive: yes") && !row.contains("arch override") { transport = "oci-archive:\(full)" }
        else if row.contains("oci: yes"), let index = try? IndexManifest.parse(FS.readFile(full + "/index.json"), what: path),
                index.manifests.count == 1 {
            // skopeo 1.9 cannot pick one of several untagged manifests in an oci: layout.
            transport = "oci:\(full)"
        }
        guard let transport else { return }
        let cfg = try Shell.run(["skopeo", "inspect", "--config", "--raw", transport])
        try #require(cfg.status == 0, "skopeo \(transport): \(cfg.stderr)")
        #expect(SHA256Hasher.digest(cfg.stdout) == image.id, "\(path): skopeo's config differs")
    }
}
