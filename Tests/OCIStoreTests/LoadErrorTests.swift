import Foundation
import Testing
import OCICore
import OCIModel
import OCIStore
import OCIArchive
import OCIImage
import OCITestSupport

/// Rewrites a tar archive member by member, letting `edit` change a
/// member's bytes (nil keeps it; members are small test fixtures).
func rewriteArchive(_ input: String, to output: String, edit: (String, [UInt8]) -> [UInt8]?) throws {
    let reader = try TarReader(path: input)
    let sink = try FileSink(creating: output)
    let writer = try TarWriter(sink: sink, name: output)
    while var entry = try reader.next() {
        if entry.kind == .regular {
            let mem = MemorySink(limit: 64 << 20, context: entry.path)
            try reader.readData(into: mem)
            let bytes = edit(entry.normalizedPath, mem.bytes) ?? mem.bytes
            entry.size = Int64(bytes.count)
            try writer.writeFile(entry, bytes: bytes)
        } else {
            try writer.writeEntry(entry)
        }
    }
    try writer.finish()
}

@Suite("load: verification errors leave the store unchanged")
struct LoadErrorTests {
    let docker = Fixtures.testImagesDir + "/podman-docker.tar"
    let oci = Fixtures.testImagesDir + "/podman-oci.tar"

    func expectFailure(_ archive: String, contains words: [String]) throws {
        let tmp = try TempDir(prefix: "ocitool-err")
        let store = ImageStore(root: tmp.file("root"))
        _ = try ImageOps.load(Fixtures.testImagesDir + "/skopeo-oci-zstd.tar", into: store)
        let before = try TreeSnapshot(store.root)
        do {
            _ = try ImageOps.load(archive, into: store)
            Issue.record("load of \(archive) should fail")
        } catch {
            for w in words { #expect("\(error)".contains(w), "\(error)") }
        }
        #expect(try TreeSnapshot(store.root) == before)
        #expect((try? FS.listDirectory(store.blobs.ingestDirectory))?.isEmpty ?? true, "staging files left behind")
    }

    @Test func corruptDockerLayerIsADiffIDMismatch() throws {
        let tmp = try TempDir()
        let bad = tmp.file("bad.tar")
        var corrupted = ""
        try rewriteArchive(docker, to: bad) { path, bytes in
            guard corrupted.isEmpty, path.hasSuffix(".tar"), bytes.count > 1024 else { return nil }
            corrupted = path
            var b = bytes
            b[600] ^= 0x01
            return b
        }
        try #require(!corrupted.isEmpty)
        try expectFailure(bad, contains: ["layer \(corrupted)", "diff_id mismatch: config says sha256:", "content is sha256:"])
    }

    @Test func corruptOCIBlobIsADigestMismatch() throws {
        let tmp = try TempDir()
        let bad = tmp.file("bad.tar")
        var corrupted = ""
        try rewriteArchive(oci, to: bad) { path, bytes in
            guard corrupted.isEmpty, path.hasPrefix("blobs/sha256/"), bytes.count > 1024 else { return nil }
            corrupted = path
            var b = bytes
            b[b.count / 2] ^= 0x01
            return b
        }
        try #require(!corrupted.isEmpty)
        try expectFailure(bad, contains: [corrupted, "digest mismatch"])
    }

    @Test func missingLayerIsNamed() throws {
        let tmp = try TempDir()
        let bad = tmp.file("bad.tar")
        // Replace manifest.json's first layer path with one that is absent.
        try rewriteArchive(docker, to: bad) { path, bytes in
            guard path == "manifest.json" else { return nil }
            let text = String(decoding: bytes, as: UTF8.self)
            guard let range = text.range(of: ".tar\"") else { return nil }
            return Array(text.replacingCharacters(in: range, with: ".missing.tar\"").utf8)
        }
        try expectFailure(bad, contains: ["missing.tar", "not in the archive"])
    }

    @Test func truncatedArchiveFails() throws {
        let tmp = try TempDir()
        let bad = tmp.file("cut.tar")
        let bytes = try FS.readFile(docker)
        let sink = try FileSink(creating: bad)
        try sink.write(contentsOf: Array(bytes.prefix(bytes.count / 2)))
        try sink.finish()
        try expectFailure(bad, contains: ["cut.tar"])
    }

    @Test func notAnArchiveFails() throws {
        let tmp = try TempDir()
        let bad = tmp.file("text.tar")
        let sink = try FileSink(creating: bad)
        try sink.write(contentsOf: Array(String(repeating: "not a tar file\n", count: 100).utf8))
        try sink.finish()
        try expectFailure(bad, contains: ["text.tar"])
    }
}
