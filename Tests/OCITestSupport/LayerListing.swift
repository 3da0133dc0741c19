import Foundation
import OCICore

/// One layer tar as an independent reader sees it: Python's `tarfile`
/// lists every member (type, mode, owner, link target, SHA-256 of the data,
/// `SCHILY.xattr.*`), so a layer ocitool writes is judged by code that is
/// not ocitool's. gzip is read by Python, zstd through the `zstd` tool.
public struct LayerListing: Sendable, CustomStringConvertible {
    public struct Member: Sendable, Equatable {
        /// The path without `./` and trailing `/`.
        public var path: String
        /// `f` regular, `d` directory, `l` symlink, `h` hard link, `c`, `b`, `p`.
        public var type: String
        public var mode: UInt32
        public var uid: Int
        public var gid: Int
        /// Symlink target, or hard-link target (normalised).
        public var link: String
        /// SHA-256 (hex) of a regular member's data.
        public var sha256: String
        /// Extended attributes, values in hex.
        public var xattrs: [String: String]
        public var mtime: Int
        public var size: Int

        /// The last path component.
        public var name: String { path.split(separator: "/").last.map(String.init) ?? path }
        /// The parent path (`""` at the top).
        public var parent: String { path.split(separator: "/").dropLast().joined(separator: "/") }
        /// `.wh.NAME` or `.wh..wh..opq`.
        public var isMarker: Bool { name.hasPrefix(".wh.") }
        public var isOpaque: Bool { name == ".wh..wh..opq" }
    }

    /// Members in archive order.
    public var members: [Member]

    public init(members: [Member]) { self.members = members }

    /// Lists the layer tar at `path` (plain, gzip or zstd).
    public init(tar path: String) throws {
        let script = #"""
        import tarfile, sys, json, hashlib, subprocess, tempfile, os
        p = sys.argv[1]
        with open(p, 'rb') as f:
            magic = f.read(4)
        tmp = None
        if magic == b'\x28\xb5\x2f\xfd':
            tmp = tempfile.NamedTemporaryFile(delete=False)
            subprocess.run(['zstd', '-dc', p], stdout=tmp, check=True)
            tmp.close()
            p = tmp.name
        out = []
        try:
            with tarfile.open(p, 'r:*') as t:
                for m in t:
                    ty = 'f' if m.isreg() else 'd' if m.isdir() else 'l' if m.issym() else 'h' if m.islnk() else \
                         'c' if m.ischr() else 'b' if m.isblk() else 'p' if m.isfifo() else '?'
                    x = {}
                    for k, v in m.pax_headers.items():
                        if k.startswith('SCHILY.xattr.'):
                            x[k[len('SCHILY.xattr.'):]] = v.encode('utf-8', 'surrogateescape').hex()
                    e = {'path': m.name, 'type': ty, 'mode': m.mode, 'uid': m.uid, 'gid': m.gid,
                         'link': m.linkname, 'mtime': int(m.mtime), 'size': m.size, 'xattrs': x, 'sha256': ''}
                    if m.isreg():
                        h = hashlib.sha256()
                        f = t.extractfile(m)
                        while True:
                            b = f.read(1 << 20)
                            if not b:
                                break
                            h.update(b)
                        e['sha256'] = h.hexdigest()
                    out.append(e)
        finally:
            if tmp:
                os.unlink(tmp.name)
        json.dump(out, sys.stdout)
        """#
        let r = try Shell.run(["python3", "-c", script, path])
        guard r.status == 0, let list = try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [[String: Any]] else {
            throw CoreError.malformed(context: "python tarfile \(path)", message: r.stderr)
        }
        members = list.map { e in
            let type = e["type"] as? String ?? "?"
            var link = e["link"] as? String ?? ""
            if type == "h" { link = TarEntry.normalize(link) }
            return Member(path: TarEntry.normalize(e["path"] as? String ?? ""), type: type,
                          mode: UInt32(e["mode"] as? Int ?? 0), uid: e["uid"] as? Int ?? -1, gid: e["gid"] as? Int ?? -1,
                          link: link, sha256: e["sha256"] as? String ?? "", xattrs: e["xattrs"] as? [String: String] ?? [:],
                          mtime: e["mtime"] as? Int ?? 0, size: e["size"] as? Int ?? 0)
        }
    }

    /// Whiteout and opaque markers, as paths.
    public var markers: [String] { members.filter(\.isMarker).map(\.path) }

    /// Paths of the members that are not markers.
    public var paths: [String] { members.filter { !$0.isMarker }.map(\.path) }

    public var description: String {
        members.map { m in
            "\(m.type) \(String(m.mode, radix: 8)) \(m.uid):\(m.gid) \(m.path)" + (m.link.isEmpty ? "" : " -> \(m.link)")
        }.joined(separator: "\n")
    }

    /// The paths of lower layers the markers hide: `D/.wh.X` hides `D/X`,
    /// `D/.wh..wh..opq` hides every child `lowerRoot/D` has on disk. So a
    /// layer with per-child whiteouts and one with an opaque marker compare
    /// equal when they hide the same things.
    public func hiddenPaths(lowerRoot: String) throws -> Set<String> {
        var out = Set<String>()
        for m in members where m.isMarker {
            let prefix = m.parent.isEmpty ? "" : m.parent + "/"
            if m.isOpaque {
                let dir = m.parent.isEmpty ? lowerRoot : lowerRoot + "/" + m.parent
                for n in try FS.listDirectory(dir) { out.insert(prefix + n) }
            } else {
                out.insert(prefix + String(m.name.dropFirst(4)))
            }
        }
        return out
    }

    /// One line per non-marker member: type, mode, owner, content (hard
    /// links carry their group's data and smallest path, whichever member
    /// the writer chose to store the data under), symlink target, xattrs.
    /// Times are left out.
    public func contentLines() -> [String: String] {
        var dataOf: [String: String] = [:]
        var parent: [String: String] = [:]
        for m in members where m.type == "f" { dataOf[m.path] = m.sha256 }
        func root(_ p: String) -> String {
            var cur = p
            var hops = 0
            while let next = parent[cur], hops < 64 { cur = next; hops += 1 }
            return cur
        }
        for m in members where m.type == "h" { parent[m.path] = m.link }
        var groups: [String: [String]] = [:]
        for m in members where m.type == "h" || m.type == "f" {
            groups[root(m.path), default: []].append(m.path)
        }
        var out: [String: String] = [:]
        for m in members where !m.isMarker {
            var line: String
            switch m.type {
            case "f", "h":
                let r = root(m.path)
                line = "f \(String(m.mode & 0o7777, radix: 8)) \(m.uid):\(m.gid) sha256=\(dataOf[r] ?? "?")"
                if let g = groups[r], g.count > 1 {
                    line += " links=" + g.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }.joined(separator: ",")
                }
            case "l":
                line = "l \(m.uid):\(m.gid) -> \(m.link)"
            default:
                line = "\(m.type) \(String(m.mode & 0o7777, radix: 8)) \(m.uid):\(m.gid)"
            }
            if m.type != "h" {
                for (k, v) in m.xattrs.sorted(by: { $0.key < $1.key }) where k != "security.selinux" { line += " xattr:\(k)=\(v)" }
            }
            out[m.path] = line
        }
        return out
    }

    /// Differences from `other` in content and in what is hidden below
    /// (`-` only here, `+` only there, `~` different), at most `limit` lines.
    public func differences(from other: LayerListing, lowerRoot: String, limit: Int = 40) throws -> [String] {
        var out: [String] = []
        let a = contentLines(), b = other.contentLines()
        for p in Set(a.keys).union(b.keys).sorted() {
            switch (a[p], b[p]) {
            case let (x?, y?) where x != y: out.append("~ \(p): \(x)  ≠  \(y)")
            case let (x?, nil): out.append("- \(p): \(x)")
            case let (nil, y?): out.append("+ \(p): \(y)")
            default: continue
            }
        }
        let ha = try hiddenPaths(lowerRoot: lowerRoot), hb = try other.hiddenPaths(lowerRoot: lowerRoot)
        for p in ha.subtracting(hb).sorted() { out.append("- hides \(p)") }
        for p in hb.subtracting(ha).sorted() { out.append("+ hides \(p)") }
        return Array(out.prefix(limit))
    }
}

/// Finds the layers of an image archive written by any tool: extracted by
/// GNU tar, then `manifest.json` (docker) or `index.json` (OCI) read by
/// `JSONSerialization`.
public enum ArchiveLayers {
    /// Paths of the layer blobs of the archive's first image, bottom first,
    /// and its config (parsed). The archive is extracted into `dir`.
    public static func layers(of archive: String, extractInto dir: String) throws -> (layers: [String], config: [String: Any]) {
        try PeerRunner.untar(archive, into: dir)
        if let data = FileManager.default.contents(atPath: dir + "/manifest.json"),
           let list = try JSONSerialization.jsonObject(with: data) as? [[String: Any]], let first = list.first,
           let layers = first["Layers"] as? [String], let config = first["Config"] as? String {
            return (layers.map { dir + "/" + $0 }, try json(dir + "/" + config))
        }
        let index = try json(dir + "/index.json")
        guard let m = (index["manifests"] as? [[String: Any]])?.first, let digest = m["digest"] as? String else {
            throw CoreError.malformed(context: archive, message: "no manifest.json and no image in index.json")
        }
        let manifest = try json(blob(dir, digest))
        let layers = (manifest["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }.map { blob(dir, $0) }
        guard let configDigest = (manifest["config"] as? [String: Any])?["digest"] as? String else {
            throw CoreError.malformed(context: archive, message: "manifest without config")
        }
        return (layers, try json(blob(dir, configDigest)))
    }

    static func blob(_ dir: String, _ digest: String) -> String {
        dir + "/blobs/" + digest.replacingOccurrences(of: ":", with: "/")
    }

    static func json(_ path: String) throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: path),
              let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CoreError.malformed(context: path, message: "not a JSON object")
        }
        return obj
    }
}
