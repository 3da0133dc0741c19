import Foundation
import Testing
import OCICore
import OCITestSupport

/// `load` of a plain tar file stages its largest gzip layer (≥ 32 MiB)
/// before the other members, from its place in the file, so that its
/// inflate starts at once. The archives here are written by Python
/// `tarfile` with that layer last; the result must be what a scan in
/// archive order gives, and a damaged big layer must fail as cleanly.
@Suite("load: the largest layer first")
struct LargestLayerFirstTests {
    /// Writes `oci.tar` (big layer last), `truncated.tar` (cut inside the big
    /// layer) and `flipped.tar` (one byte of the big layer changed) into
    /// `dir`; prints the big layer's digest and both diff_ids.
    static let program = #"""
import gzip, hashlib, io, json, os, random, sys, tarfile
out = sys.argv[1]
rng = random.Random(4242)
def layer(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files:
            i = tarfile.TarInfo(name); i.size = len(data); i.mtime = 1700000000; i.mode = 0o644
            t.addfile(i, io.BytesIO(data))
    raw = buf.getvalue()
    return raw, gzip.compress(raw, compresslevel=1, mtime=0)
def sha(b): return hashlib.sha256(b).hexdigest()
small_raw, small = layer([("etc/small", b"small layer\n")])
big_raw, big = layer([("data/blob", rng.randbytes(34 << 20)), ("etc/big", b"big layer\n")])
assert len(big) >= 33 << 20
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha(small_raw), "sha256:" + sha(big_raw)]}},
    separators=(",", ":")).encode()
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + sha(config), "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + sha(b), "size": len(b)} for b in (small, big)]},
    separators=(",", ":")).encode()
index = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": "sha256:" + sha(manifest), "size": len(manifest),
    "annotations": {"org.opencontainers.image.ref.name": "big:1"}}]}, separators=(",", ":")).encode()
def write(name, big_bytes, cut=None):
    members = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index),
               ("blobs/sha256/" + sha(config), config), ("blobs/sha256/" + sha(manifest), manifest),
               ("blobs/sha256/" + sha(small), small), ("blobs/sha256/" + sha(big), big_bytes)]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for n, data in members:
            i = tarfile.TarInfo(n); i.size = len(data); i.mtime = 1700000000
            t.addfile(i, io.BytesIO(data))
    data = buf.getvalue()
    with open(os.path.join(out, name), "wb") as f:
        f.write(data if cut is None else data[:cut])
write("oci.tar", big)
write("truncated.tar", big, cut=len(small) + len(big) // 2)
flipped = bytearray(big); flipped[len(big) // 2] ^= 0x55
write("flipped.tar", bytes(flipped))
print("sha256:" + sha(big), "sha256:" + sha(small_raw), "sha256:" + sha(big_raw))
"""#

    struct Archives {
        let tmp: TempDir
        let bigLayer: String
        let diffIDs: [String]
        func file(_ name: String) -> String { tmp.file(name) }
    }

    static func make() throws -> Archives {
        let tmp = try TempDir(prefix: "ocitool-largest-first")
        let r = try Shell.run(["python3", "-c", program, tmp.path])
        try #require(r.status == 0, "\(r.stderr)")
        let words = r.stdoutText.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        try #require(words.count == 3)
        return Archives(tmp: tmp, bigLayer: words[0], diffIDs: Array(words[1...]))
    }

    @Test func theBigLayerIsStagedFirstAndTheImageIsTheSame() throws {
        let a = try Self.make()
        let store = a.file("store")
        let r = try OCIToolBinary.run(["load", "--root", store, "--progress", "json", "-i", a.file("oci.tar")])
        try #require(r.status == 0, "\(r.stderr)")
        // Read tasks in the order they started (a slow read also reports
        // progress on the way: only each task's first event counts), and
        // the tasks that finished (a member read twice would finish twice).
        var reads: [String] = []
        var finished: [String] = []
        for line in r.stderr.split(separator: "\n") {
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  o["event"] as? String == "progress", o["phase"] as? String == "read", let id = o["id"] as? String else { continue }
            if o["finished"] as? Bool == true { finished.append(id) } else if !reads.contains(id) { reads.append(id) }
        }
        let bigMember = "blobs/sha256/" + a.bigLayer.dropFirst("sha256:".count)
        #expect(reads.first == bigMember, "read order: \(reads)")
        #expect(finished.filter { $0 == bigMember }.count == 1, "the big layer was read twice: \(finished)")
        #expect(reads.count == 4 && finished.count == 4, "\(reads) \(finished)")  // config, manifest, two layers
        let layers = try OCIToolBinary.run(["inspect", "--root", store, "--format", "{{range .RootFS.Layers}}{{println .}}{{end}}", "big:1"])
        try #require(layers.status == 0, "\(layers.stderr)")
        #expect(layers.stdoutText.split(separator: "\n").map(String.init) == a.diffIDs)
        #expect(try OCIToolBinary.run(["fsck", "--root", store]).status == 0)
        // The same image from standard input, read in archive order.
        let piped = a.file("piped")
        let p = try OCIToolBinary.run(["load", "--root", piped, "-q"], stdinFile: a.file("oci.tar"))
        try #require(p.status == 0, "\(p.stderr)")
        #expect(try TreeSnapshot(piped + "/blobs") == TreeSnapshot(store + "/blobs"))
    }

    @Test(arguments: ["truncated.tar", "flipped.tar"])
    func aDamagedBigLayerFailsAndLeavesTheStoreAsItWas(_ name: String) throws {
        let a = try Self.make()
        let store = a.file("store")
        try #require(try OCIToolBinary.run(["load", "--root", store, "-q", "-i", Fixtures.testImagesDir + "/podman-oci.tar"]).status == 0)
        let before = try TreeSnapshot(store)
        let r = try OCIToolBinary.run(["load", "--root", store, "-i", a.file(name)])
        #expect(r.status != 0)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(r.stderr)")
        #expect(r.stderr.contains(a.file(name)), "\(r.stderr)")
        #expect(try TreeSnapshot(store) == before)
    }
}
