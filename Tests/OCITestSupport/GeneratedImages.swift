import Foundation
import OCICore

/// Images made for a test by an independent writer (Python's tarfile,
/// gzip and hashlib; no ocitool code), big enough that ocitool's worker
/// pools are used (layers over 4 MiB) and slow enough to interrupt.
public enum GeneratedImage {
    /// What was written.
    public struct Made: Sendable {
        public var path: String
        /// `sha256:…` of the config (the image ID), the manifest, each layer blob and diff_id.
        public var configDigest: String
        public var manifestDigest: String
        public var layerDigests: [String]
        public var diffIDs: [String]
    }

    /// Writes an OCI image-layout archive at `path`: `layers` layers, each
    /// one file of `bytesPerLayer` pseudo-random bytes (seeded: the same
    /// arguments give the same archive), `gzip` (level 1) or plain tar
    /// layers, named `name` (`io.containerd.image.name` and `ref.name`).
    /// With `directory`, the layout is written as a directory instead.
    public static func ociArchive(at path: String, layers: Int, bytesPerLayer: Int, gzip: Bool = true, seed: Int = 1,
                                  name: String = "localhost/ocitool-test/generated:v1", directory: Bool = false) throws -> Made {
        let script = #"""
import gzip, hashlib, io, json, os, platform, random, sys, tarfile
out, nlayers, size, use_gzip, seed, name, as_dir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1", int(sys.argv[5]), sys.argv[6], sys.argv[7] == "1"
rng = random.Random(seed)
arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
blobs = {}
def blob(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[d] = data
    return d
layers, diff_ids = [], []
for i in range(nlayers):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        d = tarfile.TarInfo("data"); d.type = tarfile.DIRTYPE; d.mode = 0o755; d.mtime = 1700000000; t.addfile(d)
        data = rng.randbytes(size)
        f = tarfile.TarInfo("data/layer-%d.bin" % i); f.size = len(data); f.mode = 0o644; f.mtime = 1700000000
        t.addfile(f, io.BytesIO(data))
    raw = buf.getvalue()
    diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
    body = gzip.compress(raw, compresslevel=1, mtime=0) if use_gzip else raw
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if use_gzip else ""), "digest": blob(body), "size": len(body)})
config = json.dumps({"architecture": arch, "os": "linux", "created": "2023-11-14T22:13:20Z",
                     "config": {"Cmd": ["/bin/sh"]}, "rootfs": {"type": "layers", "diff_ids": diff_ids},
                     "history": [{"created": "2023-11-14T22:13:20Z", "created_by": "generated layer %d" % i} for i in range(nlayers)]},
                    sort_keys=True, separators=(",", ":")).encode()
cd = blob(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(config)},
                       "layers": layers}, sort_keys=True, separators=(",", ":")).encode()
md = blob(manifest)
index = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
                    "size": len(manifest), "annotations": {"io.containerd.image.name": name, "org.opencontainers.image.ref.name": name}}]},
                   sort_keys=True, separators=(",", ":")).encode()
files = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index)] + [("blobs/sha256/" + d[7:], b) for d, b in sorted(blobs.items())]
if as_dir:
    for rel, data in files:
        os.makedirs(os.path.join(out, os.path.dirname(rel)), exist_ok=True)
        with open(os.path.join(out, rel), "wb") as f: f.write(data)
else:
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        for dname in ["blobs", "blobs/sha256"]:
            d = tarfile.TarInfo(dname); d.type = tarfile.DIRTYPE; d.mode = 0o755; t.addfile(d)
        for rel, data in files:
            f = tarfile.TarInfo(rel); f.size = len(data); f.mode = 0o644; t.addfile(f, io.BytesIO(data))
print(json.dumps({"config": cd, "manifest": md, "layers": [l["digest"] for l in layers], "diff_ids": diff_ids}))
"""#
        let r = try Shell.run(["python3", "-c", script, path, "\(layers)", "\(bytesPerLayer)", gzip ? "1" : "0", "\(seed)", name,
                               directory ? "1" : "0"])
        guard r.status == 0 else { throw PeerRunner.Failure(description: "python3 image generator: status \(r.status): \(r.stderr)") }
        let o = try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: Any] ?? [:]
        return Made(path: path, configDigest: o["config"] as? String ?? "", manifestDigest: o["manifest"] as? String ?? "",
                    layerDigests: o["layers"] as? [String] ?? [], diffIDs: o["diff_ids"] as? [String] ?? [])
    }
}
