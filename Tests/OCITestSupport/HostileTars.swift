import Foundation
import OCICore

/// A corpus of hostile tar archives for reader tests, generated at run time
/// by a Python script (hand-written ustar/GNU/PAX headers and `tarfile`,
/// never ocitool's writer): out-of-range device numbers, ids, sizes and
/// times, base-256 and negative numeric fields, long and malformed PAX
/// records, GNU sparse headers with absurd maps, non-UTF-8 names, huge
/// xattr lists. Each case says what a safe reader must do with it.
public enum HostileTars {
    /// What reading every member (and its data) must end in.
    public enum Expectation: Sendable, Equatable, CustomStringConvertible {
        /// Every member reads.
        case ok
        /// Reading stops with an error whose text contains the needle (empty: any error).
        case error(String)
        /// Either, as long as it ends cleanly.
        case any

        public var description: String {
            switch self {
            case .ok: return "ok"
            case let .error(n): return "error containing \"\(n)\""
            case .any: return "ok or a clean error"
            }
        }
    }

    /// One hostile archive.
    public struct Case: Sendable, CustomStringConvertible {
        public var name: String
        public var path: String
        public var expectation: Expectation
        /// What is hostile about it.
        public var what: String
        public var description: String { "\(name) (\(what))" }
    }

    /// The generated archives; the directory lives as long as this value.
    public final class Corpus: Sendable {
        public let directory: TempDir
        public let cases: [Case]
        init(directory: TempDir, cases: [Case]) {
            self.directory = directory
            self.cases = cases
        }
        /// The case called `name`.
        public func named(_ name: String) -> Case? { cases.first { $0.name == name } }
    }

    /// The corpus, generated once per test process (an error when `python3` fails).
    public static let shared = Result { try generate() }

    /// Writes every case into a new temp directory.
    /// - Throws: when `python3` is missing or fails (the tests then fail: they need it).
    public static func generate() throws -> Corpus {
        let dir = try TempDir(prefix: "ocitool-hostile-tars")
        let r = try Shell.run(["python3", "-", dir.path], stdin: Array(generator.utf8))
        guard r.status == 0 else {
            throw CoreError.io(context: "python3 hostile-tar generator failed (status \(r.status)): \(r.stderr)", errno: 0)
        }
        let table = try String(contentsOfFile: dir.file("cases.tsv"), encoding: .utf8)
        let cases: [Case] = table.split(separator: "\n").compactMap { line in
            let cols = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard cols.count == 3 else { return nil }
            let expectation: Expectation
            if cols[1] == "ok" { expectation = .ok } else if cols[1] == "any" { expectation = .any } else {
                expectation = .error(String(cols[1].dropFirst("error:".count)))
            }
            return Case(name: cols[0], path: dir.file(cols[0] + ".tar"), expectation: expectation, what: cols[2])
        }
        return Corpus(directory: dir, cases: cases)
    }

    /// Writes a plain tar of `count` members (directories `d/0000000/`…, or
    /// empty regular files with `files`) to `path`, with hand-written
    /// ustar headers.
    public static func manyMembers(_ count: Int, files: Bool = false, to path: String) throws {
        let script = """
            import sys
            n, files, path = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3]
            def header(name, typeflag):
                h = bytearray(512)
                h[0:len(name)] = name
                h[100:108] = b"0000755\\0"; h[108:116] = b"0000000\\0"; h[116:124] = b"0000000\\0"
                h[124:136] = b"00000000000\\0"; h[136:148] = b"14544615400\\0"
                h[156:157] = typeflag; h[257:265] = b"ustar\\x0000"
                h[148:156] = b" " * 8
                h[148:156] = ("%06o\\0 " % sum(h)).encode()
                return bytes(h)
            with open(path, "wb") as f:
                for k in range(n):
                    f.write(header(("d/%07d" % k).encode() + (b"" if files else b"/"), b"0" if files else b"5"))
                f.write(b"\\0" * 1024)
            """
        let r = try Shell.run(["python3", "-c", script, String(count), files ? "1" : "0", path])
        guard r.status == 0 else {
            throw CoreError.io(context: "python3 many-members generator failed (status \(r.status)): \(r.stderr)", errno: 0)
        }
    }

    /// The generator (Python 3, standard library only).
    static let generator = #"""
#!/usr/bin/env python3
"""Writes hostile tar archives into DIR, one per case, and DIR/cases.tsv:
name <TAB> expectation <TAB> what it is. Expectation is `ok` (every member
reads), `error:NEEDLE` (reading stops with an error containing NEEDLE) or
`any` (either, as long as it is clean). Headers are built by hand (struct
layout of POSIX ustar / GNU tar) or with Python's tarfile, never with
ocitool."""
import io, os, sys, tarfile

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
cases = []

def octal(n, width):
    return ("%0*o" % (width - 1, n)).encode() + b"\0"

def b256(n, width):
    # GNU base-256: high bit of the first byte set, big-endian two's complement.
    if n < 0:
        n += 1 << (8 * width)
    b = bytearray(n.to_bytes(width, "big"))
    b[0] |= 0x80
    return bytes(b)

def num(v, width):
    return v if isinstance(v, bytes) else octal(v, width)

def header(name=b"f", mode=0o644, uid=0, gid=0, size=0, mtime=1700000000, typeflag=b"0",
           linkname=b"", gnu=False, uname=b"root", gname=b"root", devmajor=0, devminor=0,
           prefix=b"", gnu_extra=None):
    h = bytearray(512)
    def put(off, width, value):
        value = value[:width]
        h[off:off + len(value)] = value
    put(0, 100, name)
    put(100, 8, num(mode, 8))
    put(108, 8, num(uid, 8))
    put(116, 8, num(gid, 8))
    put(124, 12, num(size, 12))
    put(136, 12, num(mtime, 12))
    put(156, 1, typeflag)
    put(157, 100, linkname)
    put(257, 8, b"ustar  \0" if gnu else b"ustar\x0000")
    put(265, 32, uname)
    put(297, 32, gname)
    put(329, 8, num(devmajor, 8))
    put(337, 8, num(devminor, 8))
    if gnu:
        for off, value in (gnu_extra or {}).items():
            h[off:off + len(value)] = value
    else:
        put(345, 155, prefix)
    h[148:156] = b" " * 8
    h[148:156] = ("%06o\0 " % sum(h)).encode()
    return bytes(h)

def pad(data):
    return data + b"\0" * ((-len(data)) % 512)

def member(data=b"", **kw):
    kw.setdefault("size", len(data))
    return header(**kw) + pad(data)

def record(key, value, length_delta=0, length=None):
    if isinstance(key, str):
        key = key.encode()
    if isinstance(value, str):
        value = value.encode()
    body = b" " + key + b"=" + value + b"\n"
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n = len(str(n)) + len(body)
    if length is not None:
        return str(length).encode() + body
    return str(n + length_delta).encode() + body

def pax(records, name=b"PaxHeaders/f", typeflag=b"x"):
    data = b"".join(records)
    return header(name=name, typeflag=typeflag, size=len(data)) + pad(data)

END = b"\0" * 1024

def add(name, expect, what, data):
    with open(os.path.join(out, name + ".tar"), "wb") as f:
        f.write(data)
    cases.append((name, expect, what))

def tf(name, expect, what, infos, fmt=tarfile.PAX_FORMAT, **kw):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, **kw) as t:
        for info, data in infos:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    add(name, expect, what, buf.getvalue())

def ti(name, type=tarfile.REGTYPE, **attrs):
    i = tarfile.TarInfo(name)
    i.type = type
    i.mtime = 1700000000
    for k, v in attrs.items():
        setattr(i, k, v)
    return i

ok_file = member(b"hello\n", name=b"ok.txt")

# --- device numbers ----------------------------------------------------------
i = ti("dev/x", tarfile.CHRTYPE); i.pax_headers = {"SCHILY.devmajor": "99999999999", "SCHILY.devminor": "1"}
tf("pax-devmajor-huge", "error:device major number 99999999999", "PAX SCHILY.devmajor beyond 32 bits", [(i, None)])
i = ti("dev/x", tarfile.BLKTYPE); i.pax_headers = {"SCHILY.devmajor": "1", "SCHILY.devminor": "18446744073709551615"}
tf("pax-devminor-huge", "error:device minor number", "PAX SCHILY.devminor 2^64-1", [(i, None)])
i = ti("dev/y", tarfile.CHRTYPE, devmajor=1 << 40, devminor=5)
tf("gnu-devmajor-base256", "error:device major number 1099511627776", "GNU base-256 devmajor 2^40", [(i, None)], fmt=tarfile.GNU_FORMAT)
i = ti("dev/z", tarfile.CHRTYPE, devmajor=(1 << 32) - 1, devminor=(1 << 32) - 1)
tf("gnu-devnumbers-max32", "ok", "device numbers 2^32-1 (the largest that fit)", [(i, None)], fmt=tarfile.GNU_FORMAT)
add("ustar-devmajor-negative", "error:device major number", "base-256 devmajor -1 in a ustar header",
    member(name=b"dev/n", typeflag=b"3", devmajor=b256(-1, 8)) + END)
i = ti("regular-with-devmajor"); i.size = 2; i.pax_headers = {"SCHILY.devmajor": "99999999999"}
tf("pax-devmajor-on-regular", "ok", "a huge devmajor on a regular file is ignored", [(i, b"hi")])

# --- ids ---------------------------------------------------------------------
i = ti("f"); i.pax_headers = {"uid": "99999999999"}
tf("pax-uid-huge", "error:uid 99999999999 is out of range", "PAX uid beyond 32 bits", [(i, b"")])
i = ti("f"); i.pax_headers = {"gid": "4294967296"}
tf("pax-gid-2^32", "error:gid 4294967296 is out of range", "PAX gid 2^32", [(i, b"")])
add("gnu-uid-negative", "error:uid -1 is out of range", "GNU base-256 uid -1",
    member(name=b"f", uid=b256(-1, 8), gnu=True) + END)
add("gnu-gid-negative-big", "error:gid", "GNU base-256 gid -2^62",
    member(name=b"f", gid=b256(-(1 << 62), 8), gnu=True) + END)
i = ti("f", uid=(1 << 32) - 1, gid=(1 << 32) - 1)
tf("pax-ids-max32", "ok", "uid/gid 2^32-1", [(i, b"")])

# --- sizes -------------------------------------------------------------------
add("size-negative-base256", "error:", "base-256 size -1",
    member(name=b"f", size=b256(-1, 12)) + END)
add("size-huge-base256", "error:", "base-256 size 2^62 with 6 bytes of data",
    header(name=b"f", size=b256(1 << 62, 12)) + pad(b"abcdef") + END)
add("size-int64max-base256", "error:", "base-256 size 2^63-1",
    header(name=b"f", size=b256((1 << 63) - 1, 12)) + END)
add("pax-size-negative", "error:", "PAX size=-5",
    pax([record("size", "-5")]) + member(b"12345", name=b"f") + END)
add("pax-size-huge", "error:", "PAX size=99999999999999999999 (overflows int64)",
    pax([record("size", "99999999999999999999")]) + member(b"x", name=b"f") + END)
add("size-beyond-input", "error:truncated", "size 1 MiB, 10 bytes present",
    header(name=b"f", size=1 << 20) + b"0123456789")
add("size-octal-garbage", "any", "size field with non-octal digits",
    header(name=b"f", size=b"99999999999\0") + END)

# --- times -------------------------------------------------------------------
i = ti("f"); i.pax_headers = {"mtime": "99999999999999999999999.5"}
tf("pax-mtime-huge", "ok", "PAX mtime beyond int64 (libarchive clamps)", [(i, b"")])
i = ti("f"); i.pax_headers = {"mtime": "-99999999999.999999999"}
tf("pax-mtime-negative", "ok", "PAX mtime very negative", [(i, b"")])
add("gnu-mtime-base256-max", "ok", "GNU base-256 mtime 2^63-1",
    member(name=b"f", mtime=b256((1 << 63) - 1, 12), gnu=True) + END)
add("gnu-mtime-base256-min", "ok", "GNU base-256 mtime -2^63",
    member(name=b"f", mtime=b256(-(1 << 63), 12), gnu=True) + END)
i = ti("f"); i.pax_headers = {"mtime": "1.99999999999999999999"}
tf("pax-mtime-long-fraction", "ok", "PAX mtime with 20 fraction digits", [(i, b"")])

# --- pax records -------------------------------------------------------------
add("pax-path-1MiB", "error:", "PAX path of 1 MiB (over libarchive's 1 MiB header limit)",
    pax([record("path", "a/" * (1 << 19))]) + member(name=b"f") + END)
add("pax-path-100KiB", "error:name is 100000 bytes long, over the limit of 65536", "PAX path of 100 KB",
    pax([record("path", "p" * 100_000)]) + member(name=b"f") + END)
add("pax-linkpath-100KiB", "error:over the limit", "PAX linkpath of 100 KiB on a symlink",
    pax([record("linkpath", "t" * 100_000)]) + member(name=b"l", typeflag=b"2", linkname=b"x") + END)
add("pax-path-60KiB", "ok", "PAX path of 60 KiB (under the 64 KiB name limit)",
    pax([record("path", "d/" * 30_000 + "f")]) + member(name=b"f") + END)
add("pax-length-short", "any", "PAX record whose length is 3 too short",
    pax([record("path", "short-by-three", length_delta=-3)]) + member(name=b"f") + END)
add("pax-length-long", "any", "PAX record whose length runs past the header",
    pax([record("path", "long", length_delta=40)]) + member(name=b"f") + END)
add("pax-length-huge", "any", "PAX record length 99999999999",
    pax([record("path", "x", length=99999999999)]) + member(name=b"f") + END)
add("pax-length-zero", "any", "PAX record length 0",
    pax([b"0 path=x\n"]) + member(name=b"f") + END)
add("pax-length-garbage", "any", "PAX record without a length",
    pax([b"path=x\n", b"zz path=y\n"]) + member(name=b"f") + END)
add("pax-no-equals", "any", "PAX record without '='",
    pax([b"12 pathxxxx\n"]) + member(name=b"f") + END)
add("pax-header-size-huge", "error:", "PAX header member with size 2^62",
    header(name=b"PaxHeaders/f", typeflag=b"x", size=b256(1 << 62, 12)) + END)
add("pax-global-huge-records", "any", "global PAX header with 4,000 records",
    pax([record("comment%d" % k, "v" * 20) for k in range(4000)], typeflag=b"g") + ok_file + END)
i = ti("f")
i.pax_headers = {"SCHILY.xattr.user.a%d" % k: "v" for k in range(2000)}
tf("pax-xattrs-2000", "error:extended attributes, over the limit", "2,000 SCHILY.xattr records", [(i, b"")])
i = ti("f"); i.pax_headers = {"SCHILY.xattr.user.big": "v" * (2 << 20)}
tf("pax-xattr-2MiB", "error:", "one 2 MiB xattr value (over libarchive's header limit)", [(i, b"")])
i = ti("f"); i.pax_headers = {"SCHILY.xattr.user.big": "v" * 300_000}
tf("pax-xattr-300KB", "error:extended attributes over the limit of 262144 bytes", "one 300 KB xattr value", [(i, b"")])
i = ti("f"); i.pax_headers = {"SCHILY.xattr.user.a": "1", "SCHILY.xattr.user.b": "2"}
tf("pax-xattrs-two", "ok", "two small xattrs", [(i, b"")])

# --- names ---------------------------------------------------------------------
add("name-invalid-utf8", "error:not valid UTF-8", "ustar name with bytes ff fe",
    member(b"x", name=b"bad-\xff\xfe") + END)
add("linkname-invalid-utf8", "error:not valid UTF-8", "symlink target with byte c3 28",
    member(name=b"l", typeflag=b"2", linkname=b"bad-\xc3\x28") + END)
add("pax-path-invalid-utf8", "error:", "PAX path with byte 80",
    pax([record(b"path", b"p\x80q")]) + member(name=b"f") + END)
add("pax-path-with-nul", "any", "PAX path with a NUL in the middle",
    pax([record(b"path", b"before\0after")]) + member(name=b"f") + END)
add("name-empty", "error:", "ustar name all NUL",
    member(b"x", name=b"") + END)
add("name-control-chars", "ok", "name with newline and escape characters",
    member(b"x", name=b"a\nb\x1bc") + END)
add("hardlink-with-data", "any", "ustar hard link whose header carries 5 bytes of data",
    ok_file + member(b"12345", name=b"h", typeflag=b"1", linkname=b"ok.txt") + END)
add("pax-hardlink-with-data", "ok", "PAX hard link with 5 bytes of data",
    ok_file + pax([record("comment", "pax")]) + member(b"12345", name=b"h", typeflag=b"1", linkname=b"ok.txt") + END)
add("typeflag-unknown", "ok", "typeflag Z",
    member(b"zz", name=b"z", typeflag=b"Z") + END)
add("gnu-longname-huge", "error:", "GNU L long name of 2^40 bytes announced",
    header(name=b"././@LongLink", typeflag=b"L", size=1 << 40, gnu=True) + END)
add("gnu-longname-2MiB", "any", "GNU L long name of 2 MiB",
    header(name=b"././@LongLink", typeflag=b"L", size=2 << 20, gnu=True) + pad(b"n" * (2 << 20)) + member(name=b"f", gnu=True) + END)

# --- sparse ------------------------------------------------------------------
def gnu_sparse(entries, realsize, stored, name=b"sparse", extended=None):
    """An old-style GNU sparse member (typeflag S)."""
    extra = {}
    for k, (off, n) in enumerate(entries[:4]):
        extra[386 + 24 * k] = off if isinstance(off, bytes) else octal(off, 12)
        extra[386 + 24 * k + 12] = n if isinstance(n, bytes) else octal(n, 12)
    if extended:
        extra[482] = b"\x01"
    extra[483] = realsize if isinstance(realsize, bytes) else octal(realsize, 12)
    h = header(name=name, typeflag=b"S", size=len(stored), gnu=True, gnu_extra=extra)
    blocks = b""
    for k, chunk in enumerate(extended or []):
        b = bytearray(512)
        for j, (off, n) in enumerate(chunk):
            b[24 * j:24 * j + 12] = octal(off, 12)
            b[24 * j + 12:24 * j + 24] = octal(n, 12)
        b[504] = 1 if k < len(extended) - 1 else 0
        blocks += bytes(b)
    return h + blocks + pad(stored)

add("gnu-sparse-small", "ok", "a 1 MiB sparse file with two 4-byte regions",
    gnu_sparse([(0, 4), (1 << 19, 4)], 1 << 20, b"abcdefgh") + END)
add("gnu-sparse-between-files", "ok", "a file, a 1 MiB sparse file, a file",
    ok_file + gnu_sparse([(0, 4), (1 << 19, 4)], 1 << 20, b"abcdefgh") + member(b"bye\n", name=b"after.txt") + END)
add("gnu-sparse-6GiB", "error:exceeds the limit", "a 6 GiB sparse file in 2 KB",
    gnu_sparse([(0, 4)], 6 << 30, b"abcd") + END)
add("gnu-sparse-realsize-int64max", "error:", "realsize 2^63-1",
    gnu_sparse([(0, 4)], b256((1 << 63) - 1, 12), b"abcd") + END)
add("gnu-sparse-realsize-negative", "error:", "realsize -1 (base-256)",
    gnu_sparse([(0, 4)], b256(-1, 12), b"abcd") + END)
add("gnu-sparse-overlapping", "error:", "regions that overlap",
    gnu_sparse([(0, 8), (4, 8)], 100, b"0123456789abcdef") + END)
add("gnu-sparse-backwards", "error:", "regions out of order",
    gnu_sparse([(50, 4), (10, 4)], 100, b"abcdefgh") + END)
add("gnu-sparse-beyond-size", "error:", "a region past the real size",
    gnu_sparse([(0, 4), (1000, 4)], 100, b"abcdefgh") + END)
add("gnu-sparse-offset-huge", "error:", "region offset 2^62",
    gnu_sparse([(b256(1 << 62, 12), 4)], 100, b"abcd") + END)
add("gnu-sparse-map-more-than-stored", "any", "map announcing 64 bytes, 8 stored",
    gnu_sparse([(0, 32), (40, 32)], 100, b"abcdefgh") + END)
ext = [[(1000 * (21 * b + j + 4), 1) for j in range(21)] for b in range(400)]
add("gnu-sparse-8400-regions", "ok", "an extended sparse map of 8,404 regions",
    gnu_sparse([(0, 1), (1000, 1), (2000, 1), (3000, 1)], 10_000_000, b"x" * 8404, extended=ext) + END)
add("pax-malformed-regular-slash", "error:a regular file whose name ends in '/'",
    "a malformed PAX record, then a regular member named d/d/ (the fuzz-tar round-trip shape)",
    pax([b"99 junk\n"]) + member(b"abc", name=b"d/d/") + END)
add("gnu-realsize-on-regular", "error:the header announces", "GNU realsize field on a plain member (the fuzz-hang shape)",
    member(b"x" * 163, name=b"f", gnu=True, gnu_extra={483: b256((1 << 63) - 1, 12)}) + END)
add("pax-sparse-01-200k", "error:", "PAX GNU.sparse.map with 200,000 regions",
    pax([record("GNU.sparse.size", "99999999999"), record("GNU.sparse.numblocks", "200000"),
         record("GNU.sparse.map", ",".join("%d,1" % (k * 10) for k in range(200_000)))])
    + member(b"", name=b"f") + END)
add("pax-sparse-10-numblocks-huge", "error:", "PAX GNU sparse 1.0 with 99999999999 blocks",
    pax([record("GNU.sparse.major", "1"), record("GNU.sparse.minor", "0"), record("GNU.sparse.name", "f"),
         record("GNU.sparse.realsize", "1000")])
    + member(b"99999999999\n0\n4\n", name=b"GNUSparseFile.0/f") + END)
add("pax-sparse-size-only", "error:", "PAX GNU.sparse.size without a map",
    pax([record("GNU.sparse.size", "99999999999999")]) + member(b"abc", name=b"f") + END)

# --- structure -----------------------------------------------------------------
add("truncated-header", "error:", "300 bytes of a header", header(name=b"f")[:300])
bad = bytearray(member(b"x", name=b"f")); bad[0] ^= 0x20
add("checksum-wrong", "error:", "a header whose checksum does not match", bytes(bad) + END)
add("only-one-zero-block", "any", "a member and a lone zero block", ok_file + b"\0" * 512)
add("no-end-blocks", "any", "a member, no end-of-archive blocks", ok_file)

with open(os.path.join(out, "cases.tsv"), "w") as f:
    for c in cases:
        f.write("\t".join(c) + "\n")
"""#
}
