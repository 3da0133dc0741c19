#!/usr/bin/env python3
"""Builds a small (~160 MB uncompressed) image for profiling the load path
under callgrind, where the 1.3 GB benchmark image would take too long.

Deterministic (seeded PRNG, fixed mtimes, gzip mtime 0): two runs give the
same bytes on any machine. Three layers, so every ingest path runs:
  L1 ~100 MB: files of 4 KB-8 MB, a sixth random bytes, the rest word text
  L2  ~55 MB: ~6000 small text files (1-16 KB), many directories
  L3  ~0.3 MB: a few files, below the 4 MiB "large blob" threshold

Writes into OUT (default /var/tmp/ocitool-profile):
  profile-oci-gzip.tar   OCI image-layout archive, gzip layers (level 6)
  profile-docker.tar     docker save archive, uncompressed layers
Usage: make-profile-image.py [OUT]
"""
import gzip, hashlib, io, json, os, random, sys, tarfile

MTIME = 1704067200
OUT = sys.argv[1] if len(sys.argv) > 1 else "/var/tmp/ocitool-profile"


def words(rng):
    letters = "etaoinshrdlcumwfgypbvkjxqz"
    weights = [12, 9, 8, 8, 7, 7, 6, 6, 6, 4, 4, 3, 3, 2, 2, 2, 2, 2, 1.5, 1.5, 1, 1, .5, .3, .2, .1]
    vocab = set()
    while len(vocab) < 6000:
        vocab.add("".join(rng.choices(letters, weights, k=rng.randint(2, 11))))
    return sorted(vocab)


TEXT_CUM = {}


def text(rng, vocab, n):
    # Zipf-like word frequencies, as in real text and source code (gzip -6 ratio ~3).
    cum = TEXT_CUM.get(len(vocab))
    if cum is None:
        cum, acc = [], 0.0
        for r in range(len(vocab)):
            acc += 1 / (r + 1)
            cum.append(acc)
        TEXT_CUM[len(vocab)] = cum
    out, size = [], 0
    while size < n:
        line = " ".join(rng.choices(vocab, cum_weights=cum, k=rng.randint(4, 14))) + "\n"
        out.append(line)
        size += len(line)
    return "".join(out).encode()[:n]


def add(tf, name, data=None, kind="file", target=None):
    ti = tarfile.TarInfo(name)
    ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = MTIME, 0, 0, "", ""
    if kind == "dir":
        ti.type, ti.mode = tarfile.DIRTYPE, 0o755
        tf.addfile(ti)
    elif kind == "sym":
        ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, target, 0o777
        tf.addfile(ti)
    else:
        ti.size, ti.mode = len(data), 0o644
        tf.addfile(ti, io.BytesIO(data))


def layer(build):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        build(tf)
    return buf.getvalue()


def l1(tf):
    rng, vocab = random.Random(1), words(random.Random(0))
    add(tf, "opt", kind="dir")
    add(tf, "opt/big", kind="dir")
    total, i = 0, 0
    while total < 100 << 20:
        n = rng.choice([4 << 10, 64 << 10, 512 << 10, 2 << 20, 8 << 20])
        data = rng.randbytes(n) if i % 6 == 0 else text(rng, vocab, n)
        add(tf, f"opt/big/f{i:04d}.{'bin' if i % 6 == 0 else 'txt'}", data)
        total += n
        i += 1
    add(tf, "opt/big/latest", kind="sym", target="f0000.bin")


def l2(tf):
    rng, vocab = random.Random(2), words(random.Random(0))
    add(tf, "srv", kind="dir")
    total, i = 0, 0
    while total < 55 << 20:
        d = f"srv/d{i // 100:03d}"
        if i % 100 == 0:
            add(tf, d, kind="dir")
        n = rng.randint(1 << 10, 16 << 10)
        add(tf, f"{d}/m{i:05d}.py", text(rng, vocab, n))
        total += n
        i += 1


def l3(tf):
    rng, vocab = random.Random(3), words(random.Random(0))
    add(tf, "etc", kind="dir")
    for i in range(20):
        add(tf, f"etc/conf{i}.txt", text(rng, vocab, 16 << 10))


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def main():
    os.makedirs(OUT, exist_ok=True)
    tars = [layer(b) for b in (l1, l2, l3)]
    gzs = [gzip.compress(t, compresslevel=6, mtime=0) for t in tars]
    diff_ids = [sha(t) for t in tars]
    config = json.dumps({
        "created": "2024-01-01T00:00:00Z", "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": f"layer {i + 1}"} for i in range(3)],
    }, separators=(",", ":")).encode()

    def blob_member(tf, digest, data):
        add(tf, "blobs/sha256/" + digest.split(":")[1], data)

    # OCI archive, gzip layers.
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(g), "size": len(g)} for g in gzs],
    }, separators=(",", ":")).encode()
    index = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(manifest),
                       "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": "profile"}}],
    }, separators=(",", ":")).encode()
    with tarfile.open(os.path.join(OUT, "profile-oci-gzip.tar"), "w", format=tarfile.USTAR_FORMAT) as tf:
        add(tf, "blobs", kind="dir")
        add(tf, "blobs/sha256", kind="dir")
        for d, b in sorted([(sha(g), g) for g in gzs] + [(sha(config), config), (sha(manifest), manifest)]):
            blob_member(tf, d, b)
        add(tf, "index.json", index)
        add(tf, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')

    # docker save archive, uncompressed layers.
    cfg_name = sha(config).split(":")[1] + ".json"
    layer_names = [f"{d.split(':')[1]}/layer.tar" for d in diff_ids]
    dmanifest = json.dumps([{"Config": cfg_name, "RepoTags": ["localhost/ocitool-profile/img:latest"],
                             "Layers": layer_names}]).encode()
    with tarfile.open(os.path.join(OUT, "profile-docker.tar"), "w", format=tarfile.USTAR_FORMAT) as tf:
        for name, t in zip(layer_names, tars):
            add(tf, name.split("/")[0], kind="dir")
            add(tf, name, t)
        add(tf, cfg_name, config)
        add(tf, "manifest.json", dmanifest)

    for i, (t, g) in enumerate(zip(tars, gzs)):
        print(f"L{i + 1}: {len(t):,} bytes tar, {len(g):,} bytes gzip, diff_id {diff_ids[i][:19]}…")
    print(f"uncompressed {sum(map(len, tars)):,} bytes, gzip {sum(map(len, gzs)):,} bytes -> {OUT}")


if __name__ == "__main__":
    main()
