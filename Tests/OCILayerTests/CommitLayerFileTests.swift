import Foundation
import OCICore
import OCIModel
import OCIStore
import OCILayer
import OCITestSupport
import Testing

/// `Commit` with `--layer`: a tarball made by GNU tar is appended byte for
/// byte (crane append), or re-encoded when another compression is asked;
/// the diff_id is the SHA-256 of the tar as gunzip/zstd give it.
@Suite("commit --layer")
struct CommitLayerFileTests {
    /// A small tree packed by GNU tar into `name` (its flags pick the compression).
    static func gnuTar(_ fx: CommitFixture, _ name: String, flags: String) throws -> String {
        let src = fx.tmp.file("src-" + name)
        try FS.makeDirectories(src + "/opt/tool")
        try FS.writeAtomically(src + "/opt/tool/run", bytes: Array("#!/bin/sh\necho hi\n".utf8), mode: 0o755)
        let out = fx.tmp.file(name)
        let r = try Shell.run(["tar", "--numeric-owner", "--owner=0", "--group=0", "-C", src, flags, out, "opt"])
        #expect(r.status == 0, "\(r.stderr)")
        return out
    }

    @Test func gzipTarballIsAppendedAsItIs() throws {
        let fx = try CommitFixture()
        let file = try Self.gnuTar(fx, "layer.tar.gz", flags: "-czf")
        let (staged, listing) = try fx.commit(.layer(file), options: Commit.Options())
        defer { staged.discard() }
        #expect(staged.layer.blob.digest == (try PeerTools.sha256sum(path: file)))
        #expect(staged.layer.compression == .gzip)
        let tar = try Shell.run(["gzip", "-dc", file])
        #expect(staged.layer.diffID == (try PeerTools.sha256sum(bytes: tar.stdout)))
        #expect(staged.record.config.diffIDs.last == staged.layer.diffID)
        #expect(staged.record.manifest.layers.last?.mediaType == MediaType.ociLayerGzip)
        #expect(listing.paths == ["opt", "opt/tool", "opt/tool/run"])
    }

    @Test func anotherCompressionIsReencoded() throws {
        let fx = try CommitFixture()
        let file = try Self.gnuTar(fx, "layer.tar", flags: "-cf")
        let (staged, _) = try fx.commit(.layer(file), options: Commit.Options(compression: .zstd))
        defer { staged.discard() }
        #expect(staged.layer.diffID == (try PeerTools.sha256sum(path: file)))
        let plain = try Shell.run(["zstd", "-dc", staged.layer.blob.path])
        #expect(SHA256Hasher.digest(plain.stdout) == staged.layer.diffID)
        #expect(staged.record.manifest.layers.last?.mediaType == MediaType.ociLayerZstd)
    }

    @Test func badTarballsAreRefused() throws {
        let fx = try CommitFixture()
        let escape = fx.tmp.file("escape.tar")
        try TarFixtures.writeTar([.init(TarEntry(path: "../evil", kind: .regular, size: 1), data: [0x41])], to: escape)
        #expect {
            _ = try fx.commit(.layer(escape))
        } throws: { e in (e as? LayerError)?.isUnsafeEntry == true }

        let xz = try Self.gnuTar(fx, "layer.tar.xz", flags: "-cJf")
        #expect {
            _ = try fx.commit(.layer(xz))
        } throws: { e in "\(e)".contains("xz-compressed layers are not supported") }

        let junk = fx.tmp.file("junk.tar")
        try FS.writeAtomically(junk, bytes: TestData.pseudoRandom(count: 4096))
        #expect(throws: CoreError.self) { _ = try fx.commit(.layer(junk)) }
        #expect(throws: CommitError.source(path: fx.tmp.file("none.tar"), reason: "no such layer file")) {
            _ = try fx.commit(.layer(fx.tmp.file("none.tar")))
        }
        #expect(fx.leftoverStagingFiles.isEmpty)
    }
}
