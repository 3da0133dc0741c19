import Foundation
import OCICore
import OCILayer
import OCITestSupport
import Testing

/// Hand-made layer stacks for each rule of image-spec layer.md, judged
/// three ways: an explicit expected tree, `umoci unpack` of the same layers,
/// and the export extracted by GNU tar.
@Suite("Union semantics")
struct UnionSemanticsTests {
    typealias Member = TarFixtures.Member

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var layers: [[Member]]
        /// path → "f CONTENT", "d", "l TARGET", "c", "p" (only these paths may exist).
        var expected: [String: String]
        /// Paths that must be one inode.
        var linked: [[String]] = []
        var description: String { name }
    }

    static let t: Int64 = 1_700_000_000

    static func file(_ p: String, _ c: String, mode: UInt32 = 0o644, uid: Int64 = 0, xattrs: [TarEntry.Xattr] = []) -> Member {
        Member(TarEntry(path: p, kind: .regular, mode: mode, uid: uid, gid: uid, mtime: t, size: Int64(c.utf8.count), xattrs: xattrs), data: Array(c.utf8))
    }
    static func dir(_ p: String, mode: UInt32 = 0o755, uid: Int64 = 0, xattrs: [TarEntry.Xattr] = []) -> Member {
        Member(TarEntry(path: p, kind: .directory, mode: mode, uid: uid, gid: uid, mtime: t, xattrs: xattrs))
    }
    static func link(_ p: String, _ target: String) -> Member {
        Member(TarEntry(path: p, kind: .hardlink, mode: 0o644, mtime: t, linkTarget: target))
    }
    static func sym(_ p: String, _ target: String) -> Member {
        Member(TarEntry(path: p, kind: .symlink, mode: 0o777, mtime: t, linkTarget: target))
    }
    static func wh(_ p: String) -> Member { file(p, "") }

    static let cases: [Case] = [
        Case(name: "opaque directory", layers: [
            [dir("d/"), file("d/a", "a"), dir("d/sub/"), file("d/sub/b", "b"), file("other", "o")],
            [dir("d/"), wh("d/.wh..wh..opq"), file("d/new", "n")],
        ], expected: ["d": "d", "d/new": "f n", "other": "f o"]),
        Case(name: "opaque marker after the layer's own entries", layers: [
            [dir("d/"), file("d/a", "a"), dir("d/sub/"), file("d/sub/b", "b")],
            [dir("d/"), file("d/new", "n"), dir("d/sub/"), file("d/sub/c", "c"), wh("d/.wh..wh..opq")],
        ], expected: ["d": "d", "d/new": "f n", "d/sub": "d", "d/sub/c": "f c"]),
        Case(name: "opaque keeps a same-layer child written without its parent entry", layers: [
            [dir("d/"), dir("d/sub/"), file("d/sub/x", "x"), file("d/y", "y")],
            [file("d/sub/z", "z"), wh("d/.wh..wh..opq")],
        ], expected: ["d": "d", "d/sub": "d", "d/sub/z": "f z"]),
        Case(name: "whiteout keeps a same-layer file below an implicit parent", layers: [
            [dir("a/"), file("a/old", "o")],
            [file("a/b/c", "c"), wh(".wh.a")],
        ], expected: ["a": "d", "a/b": "d", "a/b/c": "f c"]),
        Case(name: "whiteout of a directory", layers: [
            [dir("dir/"), file("dir/a", "a"), dir("dir/sub/"), file("dir/sub/b", "b"), file("keep", "k")],
            [wh(".wh.dir")],
        ], expected: ["keep": "f k"]),
        Case(name: "whiteout then re-add in the same layer", layers: [
            [file("f", "1"), dir("dir/"), file("dir/old", "o")],
            [wh(".wh.f"), file("f", "2"), wh(".wh.dir"), dir("dir/"), file("dir/new", "n")],
        ], expected: ["f": "f 2", "dir": "d", "dir/new": "f n"]),
        Case(name: "re-add then whiteout in the same layer", layers: [
            [file("f", "1"), dir("dir/"), file("dir/old", "o")],
            [file("f", "2"), dir("dir/"), file("dir/new", "n"), wh(".wh.f"), wh(".wh.dir")],
        ], expected: ["f": "f 2", "dir": "d", "dir/new": "f n"]),
        Case(name: "whiteout of something missing", layers: [
            [file("a", "a")], [wh(".wh.nothing"), wh("nodir/.wh.x"), wh("a/.wh.x")],
        ], expected: ["a": "f a"]),
        Case(name: "file replaced by a directory and back", layers: [
            [file("x", "1")], [dir("x/"), file("x/inner", "i")], [file("x", "3")],
        ], expected: ["x": "f 3"]),
        Case(name: "directory replaced by a symlink and a file", layers: [
            [dir("d/"), file("d/a", "a"), dir("e/")], [sym("d", "e"), file("e/b", "b")], [file("d", "file")],
        ], expected: ["d": "f file", "e": "d", "e/b": "f b"]),
        Case(name: "hard link whose target is deleted later", layers: [
            [file("a", "content"), link("b", "a")], [wh(".wh.a")],
        ], expected: ["b": "f content"]),
        Case(name: "hard link whose target is replaced later", layers: [
            [file("a", "old"), link("b", "a")], [file("a", "new")],
        ], expected: ["a": "f new", "b": "f old"]),
        Case(name: "hard link across layers", layers: [
            [dir("bin/"), file("bin/busybox", "bb", mode: 0o755)], [link("bin/sh", "bin/busybox"), link("ls", "/bin/busybox")],
        ], expected: ["bin": "d", "bin/busybox": "f bb", "bin/sh": "f bb", "ls": "f bb"], linked: [["bin/busybox", "bin/sh", "ls"]]),
        Case(name: "hard-link group loses its first member", layers: [
            [file("a", "g"), link("b", "a"), link("c", "a")], [wh(".wh.a")],
        ], expected: ["b": "f g", "c": "f g"], linked: [["b", "c"]]),
        Case(name: "entries written through a symlinked directory", layers: [
            [dir("usr/"), dir("usr/bin/"), sym("bin", "usr/bin"), sym("abs", "/usr")], [file("bin/tool", "t"), file("abs/lib", "l")],
        ], expected: ["usr": "d", "usr/bin": "d", "usr/bin/tool": "f t", "usr/lib": "f l", "bin": "l usr/bin", "abs": "l /usr"]),
        Case(name: "implicit parent directories", layers: [
            [file("a/b/c", "c")],
        ], expected: ["a": "d", "a/b": "d", "a/b/c": "f c"]),
        Case(name: "directory over directory updates attributes", layers: [
            [dir("d/", mode: 0o700, uid: 1, xattrs: [.init(name: "user.old", value: Array("1".utf8))]), file("d/x", "x")],
            [dir("d/", mode: 0o750, uid: 2, xattrs: [.init(name: "user.new", value: Array("2".utf8))])],
        ], expected: ["d": "d", "d/x": "f x"]),
        Case(name: "special files", layers: [
            [dir("dev/"), Member(TarEntry(path: "dev/null", kind: .characterDevice, mode: 0o666, mtime: t, deviceMajor: 1, deviceMinor: 3)),
             Member(TarEntry(path: "dev/loop0", kind: .blockDevice, mode: 0o660, gid: 6, mtime: t, deviceMajor: 7, deviceMinor: 0)),
             Member(TarEntry(path: "fifo", kind: .fifo, mode: 0o600, mtime: t)),
             file("setuid", "s", mode: 0o4755), dir("sticky/", mode: 0o1777),
             file("caps", "c", xattrs: [.init(name: "security.capability", value: [1, 0, 0, 2, 0, 0x20, 0, 0] + [UInt8](repeating: 0, count: 12))]),
             sym("dangling", "/nowhere/at/all")],
        ], expected: ["dev": "d", "dev/null": "c", "dev/loop0": "b", "fifo": "p", "setuid": "f s", "sticky": "d", "caps": "f c",
                      "dangling": "l /nowhere/at/all"]),
        Case(name: "root directory entry", layers: [
            [dir("./", mode: 0o755), file("./a", "a")], [dir("/"), file("/b", "b")],
        ], expected: ["a": "f a", "b": "f b"]),
    ]

    /// The tree under `dir` in the form of `Case.expected`.
    static func simple(_ dir: String) throws -> [String: String] {
        var out: [String: String] = [:]
        func walk(_ rel: String) throws {
            for name in try FS.listDirectory(rel.isEmpty ? dir : dir + "/" + rel) {
                let p = rel.isEmpty ? name : rel + "/" + name
                var st = stat()
                lstat(dir + "/" + p, &st)
                switch st.st_mode & S_IFMT {
                case S_IFDIR: out[p] = "d"; try walk(p)
                case S_IFREG: out[p] = "f " + String(decoding: try FS.readFile(dir + "/" + p), as: UTF8.self)
                case S_IFLNK:
                    var buf = [CChar](repeating: 0, count: 4096)
                    let n = readlink(dir + "/" + p, &buf, 4095)
                    out[p] = "l " + String(decoding: buf[0..<max(n, 0)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                case S_IFCHR: out[p] = "c"
                case S_IFBLK: out[p] = "b"
                case S_IFIFO: out[p] = "p"
                default: out[p] = "?"
                }
            }
        }
        try walk("")
        return out
    }

    static func inode(_ path: String) -> UInt64 {
        var st = stat()
        lstat(path, &st)
        return UInt64(st.st_ino)
    }

    @Test("unpack = expected = umoci = export", arguments: cases)
    func union(_ c: Case) throws {
        let tmp = try TempDir(prefix: "ocitool-union")
        let paths = try LayerTests.writeLayers(c.layers, in: tmp.path)
        let layers = LayerTests.sources(paths)
        let ours = tmp.file("ours")
        try Unpacker.unpack(layers, into: ours)
        #expect(try Self.simple(ours) == c.expected, "\(c.name)")
        for group in c.linked {
            let inodes = Set(group.map { Self.inode(ours + "/" + $0) })
            #expect(inodes.count == 1, "\(c.name): \(group) should share an inode")
        }
        let oursListing = try TreeListing(directory: ours, options: LayerTests.full)

        let umoci = try LayerTests.umociRootfs(layers: paths, in: tmp)
        let umociListing = try TreeListing(directory: umoci, options: LayerTests.full)
        #expect(oursListing == umociListing, "\(c.name) vs umoci:\n\(oursListing.differences(from: umociListing).joined(separator: "\n"))")

        let tar = tmp.file("export.tar")
        try LayerTests.export(layers, to: tar)
        let extracted = tmp.file("extracted")
        try LayerTests.gnuExtract(tar, into: extracted)
        let exportListing = try TreeListing(directory: extracted, options: LayerTests.exact)
        let oursExact = try TreeListing(directory: ours, options: LayerTests.exact)
        #expect(oursExact == exportListing, "\(c.name) vs export:\n\(oursExact.differences(from: exportListing).joined(separator: "\n"))")
        #expect(try LayerTests.tarNames(tar).sorted() == oursListing.paths.sorted(), "\(c.name): tar -t")
    }

    @Test func directoryAttributesAreExactlyTheUpperLayers() throws {
        let tmp = try TempDir(prefix: "ocitool-union")
        let c = Self.cases.first { $0.name == "directory over directory updates attributes" }!
        let ours = tmp.file("ours")
        try Unpacker.unpack(LayerTests.sources(try LayerTests.writeLayers(c.layers, in: tmp.path)), into: ours)
        var st = stat()
        stat(ours + "/d", &st)
        #expect(st.st_mode & 0o7777 == 0o750)
        #expect(st.st_uid == 2 && st.st_gid == 2)
        let listing = try TreeListing(directory: ours)
        #expect(listing.entries["d"]?.contains("xattr:user.new=32") == true)
        #expect(listing.entries["d"]?.contains("user.old") == false)
    }

    @Test func exportMaterialisesAHardLinkWhoseTargetWasDeleted() throws {
        let tmp = try TempDir(prefix: "ocitool-union")
        let c = Self.cases.first { $0.name == "hard-link group loses its first member" }!
        let tar = tmp.file("e.tar")
        try LayerTests.export(LayerTests.sources(try LayerTests.writeLayers(c.layers, in: tmp.path)), to: tar)
        let members = try TarFixtures.readAll(path: tar)
        #expect(members.map(\.entry.path) == ["b", "c"])
        #expect(members[0].entry.kind == .regular && members[0].data == Array("g".utf8))
        #expect(members[1].entry.kind == .hardlink && members[1].entry.linkTarget == "b")
    }
}
