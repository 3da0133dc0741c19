import Foundation
import OCICore
import OCIStore
import OCILayer
import OCITestSupport
import Testing

/// `ImageDiff`: docker-diff style A/C/D between two union views, or an
/// image and a directory.
@Suite("Image diff")
struct ImageDiffTests {
    typealias Member = TarFixtures.Member
    static let t: Int64 = 1_700_000_000

    static func file(_ p: String, _ c: String, mode: UInt32 = 0o644, mtime: Int64 = t) -> Member {
        Member(TarEntry(path: p, kind: .regular, mode: mode, mtime: mtime, size: Int64(c.utf8.count)), data: Array(c.utf8))
    }
    static func dir(_ p: String, mtime: Int64 = t) -> Member { Member(TarEntry(path: p, kind: .directory, mode: 0o755, mtime: mtime)) }

    @Test("an image and its own unpack do not differ", arguments: [
        "TestImages/podman-docker.tar", "TestImages/handmade-opaque-oci.tar", "TestImages/umoci-whiteout-docker.tar",
        "corpus/snyk/skopeo-copy/node-removed.tar", "corpus/sylabs-oci-tools/hard-link-delete-xattr",
    ])
    func selfDiffIsEmpty(_ fixture: String) throws {
        let tmp = try TempDir(prefix: "ocitool-diff")
        let path = fixture.hasPrefix("TestImages/") ? Fixtures.testImagesDir + "/" + fixture.dropFirst(11)
            : Fixtures.corpusDir + "/" + fixture.dropFirst(7)
        let image = try OpenedImage(path, store: ImageStore(root: tmp.file("store")))
        defer { image.close() }
        try Unpacker.unpack(image.layers, into: tmp.file("root"))
        #expect(try ImageDiff.diff(.layers(image.layers), .directory(tmp.file("root"))) == [])
        #expect(try ImageDiff.diff(.layers(image.layers), .layers(image.layers)) == [])
    }

    @Test func changesBetweenTwoImages() throws {
        let tmp = try TempDir(prefix: "ocitool-diff")
        let base: [Member] = [
            Self.dir("etc/"), Self.file("etc/keep", "k"), Self.file("etc/old", "o"), Self.file("etc/edit", "aaaa"), Self.file("etc/mode", "m"),
            Self.dir("gone/"), Self.file("gone/a", "a"), Self.dir("gone/sub/"), Self.file("gone/sub/b", "b"), Self.file("becomes-dir", "f"),
        ]
        let top: [Member] = [
            Self.dir("etc/", mtime: Self.t + 5), Self.file("etc/new", "n"), Self.file(".wh.etc/old", ""),
            Self.file("etc/edit", "bbbb"),                       // same size and mtime: only the content differs
            Self.file("etc/mode", "m", mode: 0o600), Self.file(".wh.gone", ""),
            Self.dir("added/"), Self.file("added/x", "x"), Self.dir("added/sub/"), Self.file("added/sub/y", "y"),
            Self.dir("becomes-dir/"), Self.file("becomes-dir/inner", "i"),
        ].map { m in
            var m = m
            if m.entry.path == ".wh.etc/old" { m.entry.path = "etc/.wh.old" }
            return m
        }
        let paths = try LayerTests.writeLayers([base, top], in: tmp.path)
        let a = LayerTests.sources([paths[0]]), b = LayerTests.sources(paths)
        let changes = try ImageDiff.diff(.layers(a), .layers(b)).map(\.description)
        #expect(changes == [
            "A /added", "A /added/sub", "A /added/sub/y", "A /added/x",
            "C /becomes-dir", "A /becomes-dir/inner",
            "C /etc", "C /etc/edit", "C /etc/mode", "A /etc/new", "D /etc/old",
            "D /gone",
        ].sorted { Array($0.dropFirst(2).utf8).lexicographicallyPrecedes(Array($1.dropFirst(2).utf8)) })
        // And the other way round.
        let reverse = try ImageDiff.diff(.layers(b), .layers(a)).map(\.description)
        #expect(reverse.contains("D /added") && !reverse.contains("D /added/x"))
        #expect(reverse.contains("A /gone") && reverse.contains("A /gone/sub/b") && reverse.contains("A /etc/old"))
    }

    @Test func imageAgainstAnEditedDirectory() throws {
        let tmp = try TempDir(prefix: "ocitool-diff")
        let image = try OpenedImage(Fixtures.testImagesDir + "/podman-docker.tar", store: ImageStore(root: tmp.file("store")))
        defer { image.close() }
        let root = tmp.file("root")
        try Unpacker.unpack(image.layers, into: root)
        try FS.writeAtomically(root + "/etc/new.txt", bytes: Array("new\n".utf8))
        unlink(root + "/bin/tool")
        chmod(root + "/etc/hello.txt", 0o600)
        FS.removeTree(root + "/data/long")
        let changes = try ImageDiff.diff(.layers(image.layers), .directory(root)).map(\.description)
        #expect(changes == ["C /bin", "D /bin/tool", "C /data", "D /data/long", "C /etc", "C /etc/hello.txt", "A /etc/new.txt"])
    }
}
