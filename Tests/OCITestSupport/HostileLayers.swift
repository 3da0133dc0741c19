import Foundation
import OCICore

/// A generated corpus of hostile layer stacks: each case is a few small
/// layers built to make a naive unpacker write outside its target, replace
/// the target itself, or exhaust the machine; with what a safe unpacker must
/// do about it.
public enum HostileLayers {
    /// What must happen.
    public enum Outcome: Sendable, CustomStringConvertible {
        /// The unpack stops at `entry` with an unsafe-entry error (`--skip-unsafe` skips it).
        case unsafe(entry: String, reason: String)
        /// The unpack stops at `entry` with an invalid-entry error naming `reason`.
        case invalid(entry: String, reason: String)
        /// A limit stops the unpack; `flag` raises it.
        case limit(flag: String)
        /// The unpack succeeds; these paths exist below the target
        /// (`present`) and these do not (`absent`).
        case confined(present: [String], absent: [String])

        public var description: String {
            switch self {
            case let .unsafe(e, r): return "unsafe \(e): \(r)"
            case let .invalid(e, r): return "invalid \(e): \(r)"
            case let .limit(f): return "limit \(f)"
            case let .confined(p, a): return "confined present=\(p) absent=\(a)"
            }
        }
    }

    /// One hostile stack.
    public struct Case: Sendable, CustomStringConvertible {
        public var name: String
        /// Layers, bottom first.
        public var layers: [[TarFixtures.Member]]
        public var outcome: Outcome
        /// Compress each layer with gzip (for bombs).
        public var gzip = false
        /// Limits the case is run with: (bytes, entries); nil = defaults.
        public var limits: (bytes: Int64, entries: Int64)?
        public var description: String { name }
    }

    /// A name no test machine has, for paths an escape would create on the host.
    public static let marker = "ocitool-hostile-\(getpid())"

    static func file(_ path: String, _ content: String = "x", mode: UInt32 = 0o644) -> TarFixtures.Member {
        let bytes = Array(content.utf8)
        return TarFixtures.Member(TarEntry(path: path, kind: .regular, mode: mode, mtime: 1_700_000_000, size: Int64(bytes.count)), data: bytes)
    }

    static func dir(_ path: String) -> TarFixtures.Member {
        TarFixtures.Member(TarEntry(path: path, kind: .directory, mode: 0o755, mtime: 1_700_000_000))
    }

    static func symlink(_ path: String, _ target: String) -> TarFixtures.Member {
        TarFixtures.Member(TarEntry(path: path, kind: .symlink, mode: 0o777, mtime: 1_700_000_000, linkTarget: target))
    }

    static func hardlink(_ path: String, _ target: String) -> TarFixtures.Member {
        TarFixtures.Member(TarEntry(path: path, kind: .hardlink, mode: 0o644, mtime: 1_700_000_000, linkTarget: target))
    }

    static func whiteout(_ path: String) -> TarFixtures.Member { file(path, "") }

    /// Every case. The target directory is expected to sit three levels
    /// below the directory whose snapshot the test compares (`top/p/q/root`),
    /// with `top/p/victim` and `top/etc/passwd`: the paths are built so that
    /// a naive unpacker (path joins, `..` and symlinks followed by the
    /// kernel) would overwrite, link or delete exactly those files.
    public static var cases: [Case] {
        let m = marker
        return [
            Case(name: "dotdot-escape", layers: [[file("../../../etc/passwd", "pwned")]],
                 outcome: .unsafe(entry: "../../../etc/passwd", reason: "leaves the root")),
            Case(name: "dotdot-inside-then-out", layers: [[dir("a/"), file("a/../../victim")]],
                 outcome: .unsafe(entry: "a/../../victim", reason: "leaves the root")),
            Case(name: "absolute-path", layers: [[file("/etc/\(m)")]],
                 outcome: .confined(present: ["etc/\(m)"], absent: [])),
            Case(name: "symlink-then-write-through", layers: [[symlink("a", "/tmp"), file("a/\(m)")]],
                 outcome: .confined(present: ["tmp/\(m)", "a"], absent: [])),
            Case(name: "symlink-write-through-next-layer", layers: [[symlink("a", "/tmp")], [file("a/\(m)")]],
                 outcome: .confined(present: ["tmp/\(m)"], absent: [])),
            Case(name: "relative-symlink-up-and-write", layers: [[symlink("up", "../.."), file("up/victim", "overwritten")]],
                 outcome: .confined(present: ["victim"], absent: [])),
            Case(name: "dir-replaced-by-symlink-then-write", layers: [[dir("d/")], [symlink("d", "../../../"), file("d/\(m)")]],
                 outcome: .confined(present: ["\(m)", "d"], absent: [])),
            Case(name: "hardlink-to-etc-passwd", layers: [[hardlink("passwd", "/etc/passwd")]],
                 outcome: .invalid(entry: "passwd", reason: "hard-link target etc/passwd does not exist")),
            Case(name: "hardlink-to-etc-passwd-inside", layers: [[dir("etc/"), file("etc/passwd", "root:x:0:0::/:/bin/sh\n"), hardlink("passwd", "/etc/passwd")]],
                 outcome: .confined(present: ["passwd", "etc/passwd"], absent: [])),
            Case(name: "hardlink-dotdot", layers: [[hardlink("p", "../../../etc/passwd")]],
                 outcome: .unsafe(entry: "p", reason: "leaves the root")),
            Case(name: "hardlink-through-symlink", layers: [[symlink("s", "../../../etc"), hardlink("h", "s/passwd")]],
                 outcome: .invalid(entry: "h", reason: "hard-link target s/passwd does not exist")),
            Case(name: "hardlink-to-directory", layers: [[dir("d/"), hardlink("h", "d")]],
                 outcome: .invalid(entry: "h", reason: "is a directory")),
            Case(name: "symlink-named-dot", layers: [[symlink(".", "/tmp")]],
                 outcome: .unsafe(entry: ".", reason: "replace the target directory")),
            Case(name: "symlink-named-dot-slash", layers: [[file("a"), symlink("./", "..")]],
                 outcome: .unsafe(entry: "./", reason: "replace the target directory")),
            Case(name: "file-named-dot", layers: [[file(".")]],
                 outcome: .unsafe(entry: ".", reason: "replace the target directory")),
            Case(name: "whiteout-empty-name", layers: [[file("keep")], [whiteout(".wh.")]],
                 outcome: .unsafe(entry: ".wh.", reason: "empty name")),
            Case(name: "whiteout-of-dotdot", layers: [[dir("a/")], [whiteout("a/.wh..."), file("b")]],
                 outcome: .unsafe(entry: "a/.wh...", reason: "whiteout of \"..\"")),
            Case(name: "whiteout-of-dot", layers: [[file("keep")], [whiteout(".wh..")]],
                 outcome: .unsafe(entry: ".wh..", reason: "whiteout of \".\"")),
            Case(name: "whiteout-through-symlink", layers: [[symlink("up", "../.."), file("victim")], [whiteout("up/.wh.victim")]],
                 outcome: .confined(present: ["up"], absent: ["victim"])),
            Case(name: "opaque-through-symlink", layers: [[symlink("up", "../.."), file("keep")], [whiteout("up/.wh..wh..opq")]],
                 outcome: .confined(present: [], absent: ["keep", "up"])),
            Case(name: "symlink-loop", layers: [[symlink("a", "b"), symlink("b", "a"), file("a/x")]],
                 outcome: .invalid(entry: "a/x", reason: "too many levels of symbolic links")),
            Case(name: "decompression-bomb", layers: [[TarFixtures.Member(
                    TarEntry(path: "zeros", kind: .regular, mode: 0o644, size: 8 << 20), data: [UInt8](repeating: 0, count: 8 << 20))]],
                 outcome: .limit(flag: "--max-bytes"), gzip: true, limits: (1 << 20, 1000)),
            Case(name: "path-count-bomb", layers: [(0..<3000).map { file("f\($0)") }],
                 outcome: .limit(flag: "--max-entries"), limits: (1 << 30, 1000)),
        ]
    }

    /// Writes the layers of `c` into `dir` as `layer-N.tar` (or `.tar.gz`).
    /// - Returns: the paths, bottom first.
    public static func write(_ c: Case, into dir: String) throws -> [String] {
        try c.layers.enumerated().map { i, members in
            let bytes = try TarFixtures.tarBytes(members)
            let path = "\(dir)/layer-\(i + 1).tar" + (c.gzip ? ".gz" : "")
            if c.gzip {
                let sink = try FileSink(creating: path)
                let enc = try Compression.gzip.encoder(into: sink, context: path)
                try enc.write(contentsOf: bytes)
                try enc.finish()
            } else {
                try FS.writeAtomically(path, bytes: bytes)
            }
            return path
        }
    }
}
