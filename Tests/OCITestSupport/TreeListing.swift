import Foundation
import OCICore

/// A comparable picture of an unpacked root file system: for every path
/// below the root its type, mode, owner, size and SHA-256 (regular files),
/// symlink target, device numbers, extended attributes, and which paths
/// share an inode (hard-link groups). Used to judge `ocitool unpack`
/// against `umoci unpack`, an export extracted by GNU tar, or a podman mount.
///
/// ```swift
/// let ours = try TreeListing(directory: a), theirs = try TreeListing(directory: b)
/// #expect(ours.differences(from: theirs).isEmpty)
/// ```
public struct TreeListing: Equatable, CustomStringConvertible, Sendable {
    /// What to compare.
    public struct Options: Sendable, Equatable {
        /// uid:gid of every entry.
        public var owners = true
        /// Modification times (seconds) of everything but directories.
        public var fileTimes = false
        /// Modification times of directories too.
        public var directoryTimes = false
        /// Extended attributes (`security.selinux` is always left out).
        public var xattrs = true
        /// Paths left out, relative to the root (e.g. `dev`, `etc/hosts`).
        public var excluded: Set<String> = []
        public init() {}
        public static let `default` = Options()
    }

    /// Path (relative, no leading `./`) → one line describing it.
    public var entries: [String: String]

    public init(entries: [String: String]) { self.entries = entries }

    /// Reads the tree under `root` (symlinks are never followed).
    public init(directory root: String, options: Options = .default) throws {
        var raw: [(path: String, st: stat, line: String)] = []
        var inodes: [String: [String]] = [:]
        let allXattrs = options.xattrs ? try Self.xattrs(under: root) : [:]
        func walk(_ rel: String) throws {
            let dir = rel.isEmpty ? root : root + "/" + rel
            for name in try FS.listDirectory(dir) {
                let path = rel.isEmpty ? name : rel + "/" + name
                if options.excluded.contains(path) { continue }
                let full = root + "/" + path
                var st = stat()
                guard lstat(full, &st) == 0 else { throw CoreError.io(context: "lstat \(full)", errno: errno) }
                raw.append((path, st, try Self.line(full, path, st, options, allXattrs[path] ?? [])))
                if (st.st_mode & S_IFMT) == S_IFREG && st.st_nlink > 1 {
                    inodes["\(st.st_dev):\(st.st_ino)", default: []].append(path)
                }
                if (st.st_mode & S_IFMT) == S_IFDIR { try walk(path) }
            }
        }
        try walk("")
        var leader: [String: String] = [:]
        for (_, paths) in inodes where paths.count > 1 {
            let sorted = paths.sorted(by: Self.byteOrder)
            for p in sorted { leader[p] = sorted[0] }
        }
        var out: [String: String] = [:]
        for r in raw {
            var line = r.line
            if let l = leader[r.path] { line += " hardlink-group=\(l)" }
            out[r.path] = line
        }
        entries = out
    }

    private static func line(_ full: String, _ path: String, _ st: stat, _ options: Options,
                             _ xattrs: [(String, String)]) throws -> String {
        let mode = String(format: "%04o", Int(st.st_mode & 0o7777))
        var parts: [String]
        var isDir = false
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            parts = ["d", mode]
            isDir = true
        case S_IFREG:
            let sink = DigestingSink()
            try FileSource(path: full).copy(to: sink)
            parts = ["f", mode, "size=\(st.st_size)", "sha256=\(try sink.digest().encoded)"]
        case S_IFLNK:
            var buf = [UInt8](repeating: 0, count: 65536)
            let n = buf.withUnsafeMutableBytes { readlink(full, $0.baseAddress!.assumingMemoryBound(to: CChar.self), 65536) }
            guard n >= 0 else { throw CoreError.io(context: "readlink \(full)", errno: errno) }
            parts = ["l", "-> " + String(decoding: buf[0..<n], as: UTF8.self)]
        case S_IFCHR: parts = ["c", mode, "dev=\(st.st_rdev)"]
        case S_IFBLK: parts = ["b", mode, "dev=\(st.st_rdev)"]
        case S_IFIFO: parts = ["p", mode]
        default: parts = ["?", mode]
        }
        if options.owners { parts.append("\(st.st_uid):\(st.st_gid)") }
        if options.fileTimes && !isDir || options.directoryTimes && isDir { parts.append("mtime=\(st.st_mtim.tv_sec)") }
        for (name, value) in xattrs where name != "security.selinux" {
            parts.append("xattr:\(name)=\(value)")
        }
        return parts.joined(separator: " ")
    }

    /// The extended attributes of every path under `root` (not following
    /// symlinks), values in hex, read by Python's `os.listxattr` so the
    /// oracle is not our own code.
    static func xattrs(under root: String) throws -> [String: [(String, String)]] {
        let script = """
        import os, sys, json
        root = sys.argv[1]; out = {}
        for d, dirs, files in os.walk(root):
            for n in dirs + files:
                full = os.path.join(d, n)
                try:
                    names = os.listxattr(full, follow_symlinks=False)
                except OSError:
                    continue
                if names:
                    rel = os.path.relpath(full, root)
                    out[rel] = sorted([k, os.getxattr(full, k, follow_symlinks=False).hex()] for k in names)
        json.dump(out, sys.stdout)
        """
        let r = try Shell.run(["python3", "-c", script, root])
        guard r.status == 0, let object = try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: [[String]]] else {
            throw CoreError.malformed(context: "xattrs under \(root)", message: r.stderr)
        }
        return object.mapValues { $0.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil } }
    }

    /// Paths, sorted in byte order.
    public var paths: [String] { entries.keys.sorted(by: Self.byteOrder) }

    /// One line per path, sorted.
    public var description: String { paths.map { "\($0): \(entries[$0] ?? "")" }.joined(separator: "\n") }

    /// Human-readable differences (`-` only here, `+` only in `other`,
    /// `~` both but different), at most `limit` lines.
    public func differences(from other: TreeListing, limit: Int = 40) -> [String] {
        var out: [String] = []
        for p in Set(entries.keys).union(other.entries.keys).sorted(by: Self.byteOrder) {
            switch (entries[p], other.entries[p]) {
            case let (a?, b?) where a != b: out.append("~ \(p): \(a)  ≠  \(b)")
            case (_?, nil): out.append("- \(p): \(entries[p] ?? "")")
            case (nil, _?): out.append("+ \(p): \(other.entries[p] ?? "")")
            default: continue
            }
            if out.count >= limit { out.append("…"); break }
        }
        return out
    }

    /// Drops entries for which `exclude` says yes.
    public func filtered(_ exclude: (String) -> Bool) -> TreeListing {
        TreeListing(entries: entries.filter { !exclude($0.key) })
    }

    static func byteOrder(_ a: String, _ b: String) -> Bool { Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) }
}
