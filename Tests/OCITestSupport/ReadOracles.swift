import Foundation
import OCICore

/// A TestImages `expected/*.rootfs.txt` listing: the merged file system of
/// an image as umoci unpacked it (see TestImages/README.md), one entry per path.
public struct ExpectedRootfs: Sendable {
    public struct Entry: Sendable, Equatable {
        /// `d`, `f`, `l` (as in the listing).
        public var type: Character
        /// Permission bits, octal (`0755`, `1777`).
        public var mode: UInt32
        public var owner: String
        /// Without a trailing `/`.
        public var path: String
        public var size: Int64?
        public var sha256: String?
        public var linkTarget: String?
    }

    public var entries: [Entry]

    /// The archive → listing pairs of TestImages/README.md ("Files:"): `ARCHIVE[@N]` → listing name.
    public static let pairs: [(archive: String, listing: String)] = [
        ("podman-docker.tar", "podman"), ("podman-oci.tar", "podman"), ("podman-docker.tar.gz", "podman"),
        ("podman-oci.tar.zst", "podman"), ("skopeo-docker.tar", "podman"), ("skopeo-oci-gzip.tar", "podman"),
        ("skopeo-oci-zstd.tar", "podman"), ("podman-multi-docker.tar@0", "podman"), ("podman-multi-docker.tar@1", "podman-other"),
        ("umoci-whiteout-oci.tar", "umoci-whiteout"), ("umoci-whiteout-docker.tar", "umoci-whiteout"),
        ("handmade-opaque-oci.tar", "handmade-opaque"), ("handmade-opaque-docker.tar", "handmade-opaque"),
    ]

    /// Reads `TestImages/expected/NAME.rootfs.txt`.
    public init(listing name: String) throws {
        let text = String(decoding: try FS.readFile(Fixtures.testImagesDir + "/expected/\(name).rootfs.txt"), as: UTF8.self)
        entries = try text.split(separator: "\n").map { line in
            let f = line.split(separator: " ", maxSplits: 3).map(String.init)
            guard f.count == 4, let type = f[0].first, let mode = UInt32(f[1], radix: 8) else {
                throw PeerRunner.Failure(description: "\(name).rootfs.txt: cannot read \(line)")
            }
            var rest = f[3]
            var e = Entry(type: type, mode: mode, owner: f[2], path: "", size: nil, sha256: nil, linkTarget: nil)
            if type == "l", let arrow = rest.range(of: " -> ") {
                e.linkTarget = String(rest[arrow.upperBound...])
                rest = String(rest[..<arrow.lowerBound])
            } else if let sizeAt = rest.range(of: " size=") {
                // Paths may hold spaces; attributes follow the first " size=".
                for attr in rest[sizeAt.upperBound...].split(separator: " ") {
                    if attr.hasPrefix("sha256=") { e.sha256 = String(attr.dropFirst(7)) }
                    else if e.size == nil { e.size = Int64(attr) }
                }
                rest = String(rest[..<sizeAt.lowerBound])
            }
            e.path = rest.hasSuffix("/") ? String(rest.dropLast()) : rest
            return e
        }
    }

    /// The entry at `path` (no leading `/`).
    public func entry(_ path: String) -> Entry? { entries.first { $0.path == path } }

    /// `ls -l`'s mode column for an entry (`drwxrwxrwt`).
    public static func modeString(_ e: Entry) -> String {
        var s = String(e.type == "f" ? "-" : e.type)
        let bits: [(UInt32, Character)] = [(0o400, "r"), (0o200, "w"), (0o100, "x"), (0o040, "r"), (0o020, "w"), (0o010, "x"),
                                           (0o004, "r"), (0o002, "w"), (0o001, "x")]
        for (i, (bit, c)) in bits.enumerated() {
            var ch: Character = e.mode & bit != 0 ? c : "-"
            if i == 2 && e.mode & 0o4000 != 0 { ch = ch == "x" ? "s" : "S" }
            if i == 5 && e.mode & 0o2000 != 0 { ch = ch == "x" ? "s" : "S" }
            if i == 8 && e.mode & 0o1000 != 0 { ch = ch == "x" ? "t" : "T" }
            s.append(ch)
        }
        return s
    }

    /// Where a symlink at `path` points inside the tree (relative targets
    /// resolved against its directory, `..` and `.` folded), or nil.
    public func resolve(_ path: String, hops: Int = 0) -> Entry? {
        guard hops < 40, let e = entry(path) else { return nil }
        guard e.type == "l", let target = e.linkTarget else { return e }
        let base = target.hasPrefix("/") ? [] : path.split(separator: "/").dropLast().map(String.init)
        var parts: [String] = []
        for c in base + target.split(separator: "/").map(String.init) {
            if c == "." || c.isEmpty { continue }
            if c == ".." { _ = parts.popLast() } else { parts.append(c) }
        }
        return resolve(parts.joined(separator: "/"), hops: hops + 1)
    }
}

/// An independent look at what is broken in an image archive or layout
/// directory: GNU tar extracts it, `sha256sum` and `gzip`/`zstd` hash it,
/// plain JSON parsing reads it. No ocitool code is involved. The result is
/// the members (paths inside the archive) that are wrong, as a reader would
/// meet them: a blob whose content or size is not what names it, a missing
/// blob, a config whose diff_ids do not fit, a layer that does not
/// decompress to its diff_id, an unusable index.json / manifest.json.
public enum BrokenMembers {
    public struct Finding: Sendable, CustomStringConvertible {
        /// No manifest.json, index.json or oci-layout at all.
        public var notAnImage: Bool
        /// Members found wrong (relative paths; missing blobs as `blobs/ALG/HEX`).
        public var members: [String]
        public var description: String { notAnImage ? "not an image" : members.joined(separator: ", ") }
    }

    public static func find(_ fixture: String, scratch: String) throws -> Finding {
        var root = fixture
        if !FS.isDirectory(fixture) {
            root = scratch + "/extracted"
            try FS.makeDirectories(root)
            let r = try Shell.run(["tar", "-xf", fixture, "-C", root])
            guard r.status == 0 else { throw PeerRunner.Failure(description: "tar -xf \(fixture): \(r.stderr)") }
        }
        var checker = Checker(root: root)
        checker.hashes = try digests(below: root)
        try checker.run()
        return Finding(notAnImage: checker.notAnImage, members: checker.found)
    }

    /// SHA-256 of every regular file below `root` and of its decompressed
    /// content (gzip, zstd; else the same), computed by Python's hashlib and
    /// gzip and by `zstd -dc`, in one process.
    static func digests(below root: String) throws -> [String: (sha: String, uncompressed: String)] {
        let script = #"""
import gzip, hashlib, json, os, subprocess, sys
root, out = sys.argv[1], {}
for d, dirs, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        if not os.path.isfile(p) or os.path.islink(p) and not os.path.exists(p): continue
        data = open(p, "rb").read()
        raw = data
        try:
            if data[:2] == b"\x1f\x8b": raw = gzip.decompress(data)
            elif data[:4] == b"\x28\xb5\x2f\xfd": raw = subprocess.run(["zstd", "-dcq"], input=data, capture_output=True, check=True).stdout
        except Exception:
            raw = b"not decompressible"
        out[os.path.relpath(p, root)] = ["sha256:" + hashlib.sha256(data).hexdigest(), "sha256:" + hashlib.sha256(raw).hexdigest()]
print(json.dumps(out))
"""#
        let r = try Shell.run(["python3", "-c", script, root])
        guard r.status == 0, let o = try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: [String]] else {
            throw PeerRunner.Failure(description: "python3 hashing \(root): \(r.stderr)")
        }
        return o.compactMapValues { $0.count == 2 ? ($0[0], $0[1]) : nil }
    }

    struct Checker {
        let root: String
        var found: [String] = []
        var notAnImage = false
        var hashes: [String: (sha: String, uncompressed: String)] = [:]

        init(root: String) { self.root = root }

        mutating func flag(_ member: String) { if !found.contains(member) { found.append(member) } }

        func isFile(_ rel: String) -> Bool {
            var st = stat()
            return stat(root + "/" + rel, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
        }

        func json(_ rel: String) -> Any? {
            guard isFile(rel), let data = FileManager.default.contents(atPath: root + "/" + rel) else { return nil }
            return try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        }

        func sha(_ rel: String) throws -> String {
            guard let h = hashes[TarNames.normalize(rel)] else { throw PeerRunner.Failure(description: "no digest of \(rel)") }
            return h.sha
        }

        func uncompressed(_ rel: String) throws -> String {
            guard let h = hashes[TarNames.normalize(rel)] else { throw PeerRunner.Failure(description: "no digest of \(rel)") }
            return h.uncompressed
        }

        func size(_ rel: String) -> Int64 {
            var st = stat()
            return stat(root + "/" + rel, &st) == 0 ? Int64(st.st_size) : -1
        }

        /// Where the blob `digest` is: `blobs/ALG/HEX`, else any file named HEX.
        func locate(_ digest: String) -> String? {
            let parts = digest.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return nil }
            let canonical = "blobs/\(parts[0])/\(parts[1])"
            if isFile(canonical) { return canonical }
            return Fixtures.walkFiles(root, skipDirectory: { _ in false }).first { PathString($0).lastComponent == parts[1] }
        }

        mutating func run() throws {
            // Every blobs/sha256/<hex> must hash to its name.
            for rel in Fixtures.walkFiles(root, skipDirectory: { _ in false }) {
                let p = rel.split(separator: "/")
                guard p.count == 3, p[0] == "blobs", p[1] == "sha256", p[2].count == 64,
                      p[2].allSatisfy({ $0.isHexDigit }) else { continue }
                if try sha(rel) != "sha256:\(p[2])" { flag(rel) }
            }
            var st = stat()
            let hasIndex = lstat(root + "/index.json", &st) == 0
            if hasIndex {
                if !isFile("index.json") {
                    flag("index.json")
                } else if let index = json("index.json") as? [String: Any], let list = index["manifests"] as? [[String: Any]], !list.isEmpty {
                    for d in list { try descriptor(d, depth: 0) }
                } else {
                    flag("index.json")
                }
            }
            let hasManifest = isFile("manifest.json")
            if hasManifest {
                if let list = json("manifest.json") as? [[String: Any]] {
                    for e in list { try dockerEntry(e) }
                } else if !(json("manifest.json") is [String: Any]) {
                    flag("manifest.json")
                }
            }
            if !hasIndex && !hasManifest {
                if isFile("repositories") { flag("manifest.json") } else { notAnImage = true }
            }
        }

        /// Checks the blob a descriptor names; returns its path when it is there and right.
        mutating func blob(_ d: [String: Any]) throws -> String? {
            guard let digest = d["digest"] as? String else { return nil }
            guard let rel = locate(digest) else {
                flag("blobs/" + digest.replacingOccurrences(of: ":", with: "/"))
                return nil
            }
            var ok = true
            if try sha(rel) != digest { flag(rel); ok = false }
            if let s = (d["size"] as? NSNumber)?.int64Value, s != size(rel) { flag(rel); ok = false }
            return ok ? rel : nil
        }

        mutating func descriptor(_ d: [String: Any], depth: Int) throws {
            guard depth < 4, let rel = try blob(d) else { return }
            guard let doc = json(rel) as? [String: Any] else { flag(rel); return }
            if let children = doc["manifests"] as? [[String: Any]], doc["config"] == nil {
                for c in children { try descriptor(c, depth: depth + 1) }
                return
            }
            guard let config = doc["config"] as? [String: Any] else { flag(rel); return }
            let layers = doc["layers"] as? [[String: Any]] ?? []
            guard let cfgRel = try blob(config) else { return }
            let diffIDs = ((json(cfgRel) as? [String: Any])?["rootfs"] as? [String: Any])?["diff_ids"] as? [String] ?? []
            if diffIDs.count != layers.count { flag(cfgRel) }
            for (i, l) in layers.enumerated() {
                guard let lrel = try blob(l), i < diffIDs.count else { continue }
                if try uncompressed(lrel) != diffIDs[i] { flag(lrel) }
            }
        }

        mutating func dockerEntry(_ e: [String: Any]) throws {
            guard let cfg = (e["Config"] ?? e["config"]) as? String else { flag("manifest.json"); return }
            let layers = (e["Layers"] ?? e["layers"]) as? [String] ?? []
            guard isFile(cfg) else { flag(cfg); return }
            var hex = PathString(cfg).lastComponent
            if hex.hasPrefix("sha256:") { hex = String(hex.dropFirst(7)) }
            if hex.hasSuffix(".json") { hex = String(hex.dropLast(5)) }
            if hex.count == 64, hex.allSatisfy({ $0.isHexDigit }), try sha(cfg) != "sha256:\(hex)" { flag(cfg) }
            let diffIDs = ((json(cfg) as? [String: Any])?["rootfs"] as? [String: Any])?["diff_ids"] as? [String] ?? []
            if diffIDs.count != layers.count { flag(cfg) }
            for (i, l) in layers.enumerated() {
                guard isFile(l) else { flag(l); continue }
                if i < diffIDs.count, try uncompressed(l) != diffIDs[i] { flag(l) }
            }
        }
    }
}

/// Tar member names as paths (`./a/b` → `a/b`).
public enum TarNames {
    public static func normalize(_ name: String) -> String {
        var n = Substring(name)
        while n.hasPrefix("./") { n = n.dropFirst(2) }
        while n.hasPrefix("/") { n = n.dropFirst() }
        if n.hasSuffix("/") { n = n.dropLast() }
        return String(n)
    }
}
