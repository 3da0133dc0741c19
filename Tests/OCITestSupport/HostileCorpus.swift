import Foundation
import OCICore

/// A second hostile corpus, written by Python's `tarfile` (`PyTar`), aimed
/// at the costs and conversions of the union view rather than at escapes:
/// paths 20,000 directories deep, long PAX paths, 100k whiteouts, opaque
/// directories deep down, hard-link chains and cycles, device numbers,
/// owners and times far out of range, sparse files with absurd maps,
/// crowded directories and xattr floods. Each case says what the union
/// view must do; none may crash, hang or write outside the target.
public enum HostileCorpus {
    /// What must happen.
    public enum Outcome: Sendable, CustomStringConvertible {
        /// Unpack and export succeed.
        case succeeds
        /// Unpack and export stop with an error whose text contains this.
        case fails(String)
        /// Unpack stops with this error, export succeeds (what only the
        /// kernel refuses: device numbers mknod cannot take, as root).
        case unpackFails(String)
        /// Either, as long as it is clean (a one-line error or success).
        case clean

        public var description: String {
            switch self {
            case .succeeds: return "succeeds"
            case let .fails(s): return "fails with \(s)"
            case let .unpackFails(s): return "unpack fails with \(s)"
            case .clean: return "clean"
            }
        }
    }

    /// One hostile stack.
    public struct Case: Sendable, CustomStringConvertible {
        public var name: String
        /// Layers, bottom first.
        public var layers: [[PyTar.Member]]
        public var format: PyTar.Format = .pax
        public var outcome: Outcome
        /// Library limits the case needs (nil: the defaults). A case with
        /// limits the CLI has no flag for runs through the library only.
        public var limits: (depth: Int?, names: Int?, links: Int?)?
        /// Extra CLI flags (`--max-bytes 1G`).
        public var flags: [String] = []
        /// Paths (short enough for path calls) that must exist after a successful unpack…
        public var present: [String] = []
        /// …and that must not.
        public var absent: [String] = []
        public var description: String { name }
    }

    static func deep(_ n: Int, _ c: String = "d") -> String { String(repeating: c + "/", count: n) }

    static func xattrs(_ pairs: [(String, String)]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: pairs.map { ("SCHILY.xattr." + $0.0, $0.1) })
    }

    /// A sparse member (PAX GNU sparse 0.1: `GNU.sparse.map`), whose data
    /// is `data` bytes of `x`.
    static func sparse(_ name: String, size: String, map: String, data: Int, numblocks: String? = nil) -> PyTar.Member {
        var pax = ["GNU.sparse.size": size, "GNU.sparse.map": map, "GNU.sparse.name": name]
        pax["GNU.sparse.numblocks"] = numblocks ?? String(map.split(separator: ",").count / 2)
        return PyTar.Member(name, .file, data: String(repeating: "x", count: data), pax: pax)
    }

    public static var cases: [Case] {
        let big = (0..<5000).map { PyTar.Member.file("big/f\($0)", "") }
        var out: [Case] = [
            // Depth and length.
            Case(name: "path-20000-deep", layers: [[.file(deep(20_000) + "f")]], outcome: .fails("path length")),
            Case(name: "path-4097-components", layers: [[.file(deep(4097) + "f")]], outcome: .fails("path depth")),
            Case(name: "path-4000-deep-is-fine", layers: [[.file(deep(4000) + "f")]], outcome: .succeeds, present: ["d/d/d/d"]),
            // Symlink targets stay under PATH_MAX, but each hop goes deeper.
            Case(name: "deeper-through-symlinks", layers: [[
                .file(deep(2000, "a") + "f"), .symlink("l1", "/" + deep(2000, "a")),
                .file("l1/" + deep(1500, "b") + "f"), .symlink("l2", "l1/" + deep(1500, "b")),
                .file("l2/" + deep(1000, "c") + "f"),
            ]], outcome: .fails("path depth")),
            Case(name: "long-pax-path", layers: [[.file(String(repeating: String(repeating: "p", count: 99) + "/", count: 170) + "f")]],
                 outcome: .fails("path length")),
            Case(name: "component-longer-than-NAME_MAX", layers: [[.file(String(repeating: "n", count: 300))]], outcome: .fails("Linux allows 255")),
            Case(name: "long-symlink-target", layers: [[.symlink("s", String(repeating: "t/", count: 10_000))]], outcome: .fails("link target length")),
            Case(name: "long-hardlink-target", layers: [[.file("f"), .hardlink("h", String(repeating: "./", count: 10_000) + "f")]],
                 outcome: .fails("link target length")),
            // Whiteouts.
            Case(name: "100k-whiteouts", layers: [big, (0..<100_000).map { PyTar.Member.file("big/.wh.f\($0)", "") }],
                 outcome: .succeeds, present: ["big"], absent: ["big/f0", "big/f4999"]),
            Case(name: "opaque-over-a-big-directory", layers: [big, [.file("big/.wh..wh..opq", ""), .file("big/new")]],
                 outcome: .succeeds, present: ["big/new"], absent: ["big/f0", "big/f7"]),
            Case(name: "whiteout-then-same-layer-entries", layers: [big, [.file("big/f1", "new"), .file("big/.wh..wh..opq", ""), .file("big/.wh.f1", "")]],
                 outcome: .succeeds, present: ["big/f1"], absent: ["big/f0", "big/f2"]),
            Case(name: "opaque-deep-down", layers: [
                [.file(deep(1200) + "bottom"), .file(deep(600) + "middle"), .file(deep(300) + "keep")],
                [.file(deep(600) + ".wh..wh..opq", ""), .file(deep(600) + "x/new")],
            ], outcome: .succeeds, present: [deep(600) + "x/new", deep(300) + "keep"], absent: [deep(600) + "middle", deep(601)]),
            Case(name: "whiteout-of-a-deep-tree", layers: [
                [.file(deep(3000) + "f"), .file(deep(1500) + "g")], [.file(".wh.d", "")],
            ], outcome: .succeeds, absent: ["d"]),
            // Hard links.
            Case(name: "hard-link-chain", layers: [[.file("f", "content")] + (1...2000).map { .hardlink("l\($0)", $0 == 1 ? "f" : "l\($0 - 1)") }],
                 outcome: .succeeds, present: ["l2000", "f"]),
            Case(name: "hard-link-cycle", layers: [[.hardlink("a", "b"), .hardlink("b", "a")]], outcome: .fails("does not exist")),
            Case(name: "hard-link-to-itself", layers: [[.file("c"), .hardlink("c", "c")]], outcome: .fails("does not exist")),
            Case(name: "hard-link-to-a-whited-out-file", layers: [[.file("f")], [.file(".wh.f", ""), .hardlink("g", "f")]],
                 outcome: .fails("does not exist")),
            Case(name: "hard-link-through-a-deep-symlink-loop", layers: [[.symlink("s", "s/s"), .hardlink("h", "s/x")]],
                 outcome: .fails("symbolic links")),
            Case(name: "too-many-hard-links", layers: [[.file("f")] + (1...12).map { .hardlink("l\($0)", "f") }],
                 outcome: .fails("number of hard links"), limits: (nil, nil, 10)),
            // Device numbers.
            Case(name: "devmajor-99999999999", layers: [[PyTar.Member("dev", .chr, devmajor: 1, devminor: 3, pax: ["SCHILY.devmajor": "99999999999"])]],
                 outcome: .fails("does not fit 32 bits")),
            Case(name: "devminor-2^40-base-256", layers: [[PyTar.Member("dev", .blk, devmajor: 8, devminor: 1 << 40)]], format: .gnu,
                 outcome: .fails("does not fit 32 bits")),
            Case(name: "devmajor-4096", layers: [[PyTar.Member("dev", .chr, devmajor: 4096, devminor: 1)]],
                 outcome: geteuid() == 0 ? .unpackFails("cannot be made on Linux") : .succeeds),
            Case(name: "device-numbers-2^32-1", layers: [[PyTar.Member("dev", .chr, devmajor: 1, devminor: 1,
                                                                        pax: ["SCHILY.devmajor": "4294967295", "SCHILY.devminor": "4294967295"])]],
                 outcome: geteuid() == 0 ? .unpackFails("cannot be made on Linux") : .succeeds),
            // Owners and times.
            Case(name: "negative-uid", layers: [[PyTar.Member("f", .file, data: "x", pax: ["uid": "-1", "gid": "-7"])]],
                 outcome: .fails("out of range")),
            Case(name: "uid-2^32", layers: [[PyTar.Member("f", .file, data: "x", pax: ["uid": "4294967296", "gid": "1099511627776"])]],
                 outcome: .fails("out of range")),
            Case(name: "uid-2^63", layers: [[PyTar.Member("f", .file, data: "x", pax: ["uid": "9223372036854775807", "gid": "99999999999999999999999"])]],
                 outcome: .clean),
            Case(name: "mtime-extremes", layers: [[
                PyTar.Member("a", .file, data: "x", pax: ["mtime": "-99999999999999"]),
                PyTar.Member("b", .file, data: "x", pax: ["mtime": "99999999999999999999"]),
                PyTar.Member("c", .file, data: "x", pax: ["mtime": "1700000000.99999999999999"]),
                PyTar.Member("d", .dir, pax: ["mtime": "-1.5"]),
                PyTar.Member("e", .file, data: "x", mtime: -(1 << 40)),
            ]], format: .pax, outcome: .clean),
            Case(name: "gnu-base-256-negative-gid", layers: [[PyTar.Member("f", .file, data: "x", uid: 1 << 40, gid: -5, mtime: -(1 << 50))]],
                 format: .gnu, outcome: .fails("out of range")),
            Case(name: "gnu-base-256-numbers", layers: [[
                PyTar.Member("f", .file, data: "x", uid: 1 << 40, gid: 1 << 33, mtime: -(1 << 50)),
                PyTar.Member("g", .dir, mtime: 1 << 60),
            ]], format: .gnu, outcome: .fails("out of range")),
            // Sparse files.
            Case(name: "sparse-6GiB-under-1G", layers: [[sparse("s", size: "6442450944", map: "0,1024", data: 1024)]],
                 outcome: .fails("--max-bytes"), flags: ["--max-bytes", "1G"]),
            Case(name: "sparse-6GiB-stays-sparse", layers: [[sparse("s", size: "6442450944", map: "0,1024,6442449920,1024", data: 2048)]],
                 outcome: .succeeds, present: ["s"]),
            Case(name: "sparse-offset-near-2^63", layers: [[sparse("s", size: "9223372036854775807", map: "9223372036854775000,1024", data: 1024)]],
                 outcome: .fails("--max-bytes")),
            Case(name: "sparse-regions-overlap", layers: [[sparse("s", size: "1024", map: "0,512,0,512", data: 1024)]], outcome: .clean),
            Case(name: "sparse-map-past-size", layers: [[sparse("s", size: "10", map: "0,1024", data: 1024)]], outcome: .clean),
            Case(name: "sparse-negative-offset", layers: [[sparse("s", size: "100", map: "-1,10", data: 10)]], outcome: .clean),
            Case(name: "sparse-billion-blocks", layers: [[sparse("s", size: "100", map: "0,1", data: 1, numblocks: "1000000000")]],
                 outcome: .clean),
            Case(name: "sparse-size-2^63-1", layers: [[sparse("s", size: "9223372036854775807", map: "0,1", data: 1)]],
                 outcome: .fails("--max-bytes")),
            // Wide directories and xattrs.
            Case(name: "too-many-names-in-a-directory", layers: [(0..<150).map { PyTar.Member.file("w/f\($0)") }],
                 outcome: .fails("number of names"), limits: (nil, 100, nil)),
            Case(name: "xattr-flood", layers: [[PyTar.Member("f", .file, data: "x", pax: xattrs((0..<1500).map { ("user.a\($0)", "v") }))]],
                 outcome: .fails("extended attributes, over the limit")),
            Case(name: "xattr-value-70000", layers: [[PyTar.Member("f", .file, data: "x", pax: xattrs([("user.big", String(repeating: "v", count: 70_000))]))]],
                 outcome: .fails("Linux allows 65536")),
            Case(name: "xattr-bytes-over-256KiB", layers: [[PyTar.Member("f", .file, data: "x",
                                                                         pax: xattrs((0..<6).map { ("user.v\($0)", String(repeating: "v", count: 60_000)) }))]],
                 outcome: .fails("extended attributes over the limit of")),
            // libarchive itself refuses a PAX header over 1 MiB: a clean error too.
            Case(name: "pax-header-over-1MiB", layers: [[PyTar.Member("f", .file, data: "x",
                                                                       pax: xattrs((0..<20).map { ("user.v\($0)", String(repeating: "v", count: 60_000)) }))]],
                 outcome: .fails("too large")),
        ]
        // A symlink chain longer than Linux follows, then a write through it.
        out.append(Case(name: "symlink-chain-41", layers: [(0..<41).map { PyTar.Member.symlink("s\($0)", "s\($0 + 1)") } + [.dir("s41"), .file("s0/x")]],
                        outcome: .fails("too many levels of symbolic links")))
        return out
    }
}
