import Foundation
import OCICore

/// Images with known changes for the analyze tests, made at test time with
/// Python's `tarfile` (layer tars) and assembled as OCI layouts.
public enum AnalysisImages {
    /// Writes the layer tars of the "known changes" image into `dir` and
    /// returns their paths, bottom first. Every mtime is 1700000000.
    ///
    /// - layer 0: etc/conf (10 B), etc/mode.sh (5 B, 0644), data/big.bin
    ///   (1000 B) + hard link data/link.bin, cache/a (100 B), cache/sub/b
    ///   (50 B), opq/old1 (7 B), opq/old2 (3 B), tmp.log (20 B)
    /// - layer 1: etc/conf rewritten (12 B), etc/mode.sh same bytes mode
    ///   0755, .wh.tmp.log, .wh.cache, opq/ (same attributes) +
    ///   opq/.wh..wh..opq + opq/new (4 B), data/.wh.big.bin (the link keeps
    ///   the data)
    /// - layer 2: data/.wh.link.bin (the data is gone now), etc/conf written
    ///   again identically
    public static func knownChanges(in dir: String) throws -> [String] {
        let script = #"""
import sys, tarfile, io
T = 1700000000
def add(tf, name, data=None, mode=0o644, kind="f", link=None):
    ti = tarfile.TarInfo(name); ti.mtime = T; ti.mode = mode; ti.uid = ti.gid = 0; ti.uname = ti.gname = ""
    if kind == "d": ti.type = tarfile.DIRTYPE; ti.mode = 0o755; tf.addfile(ti)
    elif kind == "h": ti.type = tarfile.LNKTYPE; ti.linkname = link; tf.addfile(ti)
    else:
        b = data.encode() if isinstance(data, str) else data
        ti.size = len(b); tf.addfile(ti, io.BytesIO(b))
out = sys.argv[1]
with tarfile.open(out + "/l0.tar", "w", format=tarfile.PAX_FORMAT) as tf:
    add(tf, "etc", kind="d"); add(tf, "etc/conf", "0123456789"); add(tf, "etc/mode.sh", "echo\n")
    add(tf, "data", kind="d"); add(tf, "data/big.bin", b"x" * 1000); add(tf, "data/link.bin", kind="h", link="data/big.bin")
    add(tf, "cache", kind="d"); add(tf, "cache/a", b"a" * 100); add(tf, "cache/sub", kind="d"); add(tf, "cache/sub/b", b"b" * 50)
    add(tf, "opq", kind="d"); add(tf, "opq/old1", "1234567"); add(tf, "opq/old2", "123")
    add(tf, "tmp.log", b"l" * 20)
with tarfile.open(out + "/l1.tar", "w", format=tarfile.PAX_FORMAT) as tf:
    add(tf, "etc/conf", "abcdefghijkl"); add(tf, "etc/mode.sh", "echo\n", mode=0o755)
    add(tf, ".wh.tmp.log", ""); add(tf, ".wh.cache", "")
    add(tf, "opq", kind="d"); add(tf, "opq/.wh..wh..opq", ""); add(tf, "opq/new", "neww")
    add(tf, "data/.wh.big.bin", "")
with tarfile.open(out + "/l2.tar", "w", format=tarfile.PAX_FORMAT) as tf:
    add(tf, "data/.wh.link.bin", ""); add(tf, "etc/conf", "abcdefghijkl")
"""#
        let r = try Shell.run(["python3", "-c", script, dir])
        guard r.status == 0 else { throw DiveOracle.OracleError(description: "python3 tarfile: \(r.stderr)") }
        return (0..<3).map { "\(dir)/l\($0).tar" }
    }

    /// Writes a 3-layer image with about `files` small files into `dir`:
    /// layer 0 holds them in a few hundred directories, layer 1 rewrites
    /// every 100th file, layer 2 deletes one directory. Returns the layer
    /// paths, bottom first.
    public static func manyFiles(_ files: Int, in dir: String) throws -> [String] {
        let script = #"""
import sys, tarfile, io
T = 1700000000
out, n = sys.argv[1], int(sys.argv[2])
def f(tf, name, size):
    ti = tarfile.TarInfo(name); ti.mtime = T; ti.size = size; tf.addfile(ti, io.BytesIO(b"z" * size))
def d(tf, name):
    ti = tarfile.TarInfo(name); ti.type = tarfile.DIRTYPE; ti.mode = 0o755; ti.mtime = T; tf.addfile(ti)
per = 250
with tarfile.open(out + "/l0.tar", "w", format=tarfile.GNU_FORMAT) as tf:
    for i in range(n):
        if i % per == 0: d(tf, "usr/share/d%04d" % (i // per)) if i else (d(tf, "usr"), d(tf, "usr/share"), d(tf, "usr/share/d0000"))
        f(tf, "usr/share/d%04d/file-%06d.txt" % (i // per, i), (i * 37) % 300)
with tarfile.open(out + "/l1.tar", "w", format=tarfile.GNU_FORMAT) as tf:
    for i in range(0, n, 100): f(tf, "usr/share/d%04d/file-%06d.txt" % (i // per, i), 400)
with tarfile.open(out + "/l2.tar", "w", format=tarfile.GNU_FORMAT) as tf:
    ti = tarfile.TarInfo("usr/share/.wh.d0001"); ti.mtime = T; tf.addfile(ti)
"""#
        let r = try Shell.run(["python3", "-c", script, dir, String(files)])
        guard r.status == 0 else { throw DiveOracle.OracleError(description: "python3 tarfile: \(r.stderr)") }
        return (0..<3).map { "\(dir)/l\($0).tar" }
    }
}
