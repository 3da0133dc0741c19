import Foundation
import OCICore

/// Builds tar files with Python's `tarfile` module, an independent writer,
/// for hostile inputs that ocitool's own writer would refuse or tidy up:
/// arbitrary PAX records (`SCHILY.devmajor`, `GNU.sparse.map`, `uid`…),
/// GNU base-256 numbers, paths of any length. Archives of plain short
/// members only (100k whiteouts) are written as hand-made ustar headers,
/// ten times faster. Needs `python3`; a test that uses it fails (it does
/// not skip) when Python is missing.
public enum PyTar {
    /// One member, as Python's `TarInfo` sees it.
    public struct Member: Encodable, Sendable {
        public enum Kind: String, Encodable, Sendable {
            case file, dir, symlink, link, chr, blk, fifo
        }
        public var name: String
        public var type: Kind
        /// Regular-file data (UTF-8), or `zeros` bytes of zeros.
        public var data: String?
        public var zeros: Int?
        public var mode: Int?
        public var uid: Int?
        public var gid: Int?
        public var mtime: Int?
        public var linkname: String?
        public var devmajor: Int?
        public var devminor: Int?
        /// Extra PAX records, written as they are.
        public var pax: [String: String]?

        public init(_ name: String, _ type: Kind = .file, data: String? = nil, zeros: Int? = nil, mode: Int? = nil,
                    uid: Int? = nil, gid: Int? = nil, mtime: Int? = nil, linkname: String? = nil,
                    devmajor: Int? = nil, devminor: Int? = nil, pax: [String: String]? = nil) {
            self.name = name
            self.type = type
            self.data = data
            self.zeros = zeros
            self.mode = mode
            self.uid = uid
            self.gid = gid
            self.mtime = mtime
            self.linkname = linkname
            self.devmajor = devmajor
            self.devminor = devminor
            self.pax = pax
        }

        public static func file(_ name: String, _ data: String = "x") -> Member { Member(name, .file, data: data) }
        public static func dir(_ name: String) -> Member { Member(name, .dir) }
        public static func symlink(_ name: String, _ target: String) -> Member { Member(name, .symlink, linkname: target) }
        public static func hardlink(_ name: String, _ target: String) -> Member { Member(name, .link, linkname: target) }
    }

    /// The archive format Python writes: PAX (long fields in extended
    /// headers) or GNU (long names in `././@LongLink`, big numbers in base 256).
    public enum Format: String, Encodable, Sendable {
        case pax, gnu
    }

    /// A Python failure, with what it printed.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private struct Spec: Encodable {
        var format: Format
        var members: [Member]
    }

    static let script = #"""
    import io, json, sys, tarfile
    spec = json.load(open(sys.argv[1]))
    fmt = tarfile.PAX_FORMAT if spec["format"] == "pax" else tarfile.GNU_FORMAT
    types = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "link": tarfile.LNKTYPE,
             "chr": tarfile.CHRTYPE, "blk": tarfile.BLKTYPE, "fifo": tarfile.FIFOTYPE}
    def simple(m):
        return (m["type"] in ("file", "dir") and not m.get("pax") and len(m["name"].encode()) <= 100
                and m.get("zeros") is None and len(m.get("data", "")) < 4096
                and all(0 <= m.get(k, 0) < 0o7777777 for k in ("uid", "gid", "mode")) and 0 <= m.get("mtime", 0) < 0o77777777777)
    def header(m, data):
        # A hand-written ustar header: name, mode, uid, gid, size, mtime, checksum, type, magic.
        h = bytearray(512)
        h[0:100] = m["name"].encode().ljust(100, b"\0")
        for off, width, value in ((100, 8, m.get("mode", 0o755 if m["type"] == "dir" else 0o644)), (108, 8, m.get("uid", 0)),
                                  (116, 8, m.get("gid", 0)), (124, 12, len(data)), (136, 12, m.get("mtime", 1700000000))):
            h[off:off + width] = b"%0*o\0" % (width - 1, value)
        h[156:157] = b"5" if m["type"] == "dir" else b"0"
        h[257:265] = b"ustar\x0000"
        h[148:156] = b" " * 8
        h[148:156] = b"%06o\0 " % sum(h)
        return bytes(h)
    if all(simple(m) for m in spec["members"]):
        with open(sys.argv[2], "wb") as out:
            for m in spec["members"]:
                data = m.get("data", "").encode() if m["type"] == "file" else b""
                out.write(header(m, data))
                out.write(data + b"\0" * (-len(data) % 512))
            out.write(b"\0" * 10240)
        sys.exit(0)
    with tarfile.open(sys.argv[2], "w", format=fmt) as t:
        for m in spec["members"]:
            ti = tarfile.TarInfo(m["name"])
            ti.type = types[m["type"]]
            data = b""
            if m["type"] == "file":
                data = b"\0" * m["zeros"] if m.get("zeros") is not None else m.get("data", "").encode()
            ti.size = len(data)
            ti.mode = m.get("mode", 0o755 if m["type"] == "dir" else 0o644)
            ti.uid = m.get("uid", 0)
            ti.gid = m.get("gid", 0)
            ti.mtime = m.get("mtime", 1700000000)
            ti.linkname = m.get("linkname", "")
            ti.devmajor = m.get("devmajor", 0)
            ti.devminor = m.get("devminor", 0)
            ti.pax_headers = m.get("pax", {})
            t.addfile(ti, io.BytesIO(data) if data else None)
    """#

    /// Writes `members` as a tar file at `path`.
    public static func write(_ members: [Member], to path: String, format: Format = .pax) throws {
        let tmp = try TempDir(prefix: "ocitool-pytar")
        defer { tmp.cleanup() }
        let specPath = tmp.file("spec.json"), scriptPath = tmp.file("make.py")
        try FS.writeAtomically(specPath, bytes: Array(try JSONEncoder().encode(Spec(format: format, members: members))))
        try FS.writeAtomically(scriptPath, bytes: Array(script.utf8))
        let r = try Shell.run(["python3", scriptPath, specPath, path])
        guard r.status == 0 else { throw Failure(description: "python3 tarfile: status \(r.status): \(r.stderr.suffix(2000))") }
    }

    /// Writes layer tars for a stack, `dir/layer-N.tar`, bottom first.
    public static func writeLayers(_ layers: [[Member]], in dir: String, format: Format = .pax) throws -> [String] {
        try FS.makeDirectories(dir)
        return try layers.enumerated().map { i, members in
            let path = "\(dir)/layer-\(i + 1).tar"
            try write(members, to: path, format: format)
            return path
        }
    }
}
