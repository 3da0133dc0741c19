#!/usr/bin/env python3
"""Describe the fixture archives in TestImages/ (helper of make-test-images.sh).

Independent of ocitool and of the tools that wrote the archives: parses the
outer archive, manifest.json / index.json, every config and every layer
(decompressing gzip/zstd by magic bytes), re-checks diff_ids, and reports the
layer-content features each archive exercises.

  describe-archives.py index  META.tsv OUTDIR   -> OUTDIR/INDEX.tsv + README table rows (stdout, markdown)
  describe-archives.py rootfs DIR               -> canonical listing of an unpacked rootfs (stdout)

Standard library only (+ the `zstd` command for zstd blobs).
"""
import hashlib
import io
import json
import os
import posixpath
import stat
import subprocess
import sys
import tarfile

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

FEATURE_ORDER = [
    "whiteout", "opaque", "hardlink", "symlink", "longpath", "longlink",
    "nonascii", "xattr", "emptylayer", "emptytar", "pax", "gnulong",
    "dotslash", "rootdir", "mode0600", "mode0755", "sticky", "dir", "mixedcompression",
    "sharedlayer",
]


def compression_of(blob):
    if blob[:2] == GZIP_MAGIC:
        return "gzip"
    if blob[:4] == ZSTD_MAGIC:
        return "zstd"
    return "tar"


def decompress(blob):
    kind = compression_of(blob)
    if kind == "gzip":
        import gzip
        return gzip.decompress(blob)
    if kind == "zstd":
        return subprocess.run(["zstd", "-dc"], input=blob, stdout=subprocess.PIPE,
                              check=True).stdout
    return blob


def read_outer(path):
    """Return ({normalised member name: bytes}, outer_compression)."""
    with open(path, "rb") as f:
        data = f.read()
    outer = compression_of(data)
    if outer == "tar":
        outer = "none"
    raw = decompress(data)
    members, links = {}, {}
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:", encoding="utf-8") as tf:
        for m in tf:
            name = posixpath.normpath(m.name.lstrip("/"))
            if m.isfile():
                members[name] = tf.extractfile(m).read()
            elif m.issym():
                links[name] = posixpath.normpath(
                    posixpath.join(posixpath.dirname(name), m.linkname))
            elif m.islnk():
                links[name] = posixpath.normpath(m.linkname.lstrip("/"))
    for name, target in links.items():
        for _ in range(8):
            if target in links:
                target = links[target]
        if target in members:
            members[name] = members[target]
    return members, outer


def scan_typeflags(raw):
    """Typeflags of the raw tar headers (incl. PAX 'x'/'g' and GNU 'L'/'K')."""
    flags, off = set(), 0
    while off + 512 <= len(raw):
        hdr = raw[off:off + 512]
        if hdr == b"\0" * 512:
            break
        flags.add(hdr[156:157].decode("latin-1"))
        field = hdr[124:136]
        if field[0] & 0x80:
            size = int.from_bytes(field[1:], "big")
        else:
            txt = field.split(b"\0")[0].strip() or b"0"
            size = int(txt, 8)
        off += 512 + (size + 511) // 512 * 512
    return flags


def layer_features(raw):
    feats = set()
    flags = scan_typeflags(raw)
    if "x" in flags or "g" in flags:
        feats.add("pax")
    if "L" in flags or "K" in flags:
        feats.add("gnulong")
    count = 0
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:", encoding="utf-8") as tf:
        for m in tf:
            count += 1
            base = posixpath.basename(m.name.rstrip("/"))
            if base == ".wh..wh..opq":
                feats.add("opaque")
            elif base.startswith(".wh."):
                feats.add("whiteout")
            if m.islnk():
                feats.add("hardlink")
            if m.issym():
                feats.add("symlink")
            if m.isdir():
                feats.add("dir")
            if len(m.name.encode("utf-8")) > 100:
                feats.add("longpath")
            if len(m.linkname.encode("utf-8")) > 100:
                feats.add("longlink")
            if any(ord(c) > 127 for c in m.name + m.linkname):
                feats.add("nonascii")
            if any(k.startswith("SCHILY.xattr.") for k in m.pax_headers):
                feats.add("xattr")
            if m.name.startswith("./"):
                feats.add("dotslash")
            if posixpath.normpath(m.name) in (".", "/"):
                feats.add("rootdir")
            if m.isfile() and not base.startswith(".wh."):
                perm = stat.S_IMODE(m.mode)
                if perm == 0o600:
                    feats.add("mode0600")
                if perm == 0o755:
                    feats.add("mode0755")
            if m.isdir() and m.mode & stat.S_ISVTX:
                feats.add("sticky")
    if count == 0:
        feats.add("emptytar")
    return feats, count


def image_records(members):
    """Yield dicts: tags, config bytes, [layer blob bytes], format."""
    if "manifest.json" in members:
        for entry in json.loads(members["manifest.json"]):
            yield {
                "format": "docker",
                "tags": entry.get("RepoTags") or [],
                "config": members[posixpath.normpath(entry["Config"])],
                "layers": [members[posixpath.normpath(p)] for p in entry["Layers"]],
            }
        return
    index = json.loads(members["index.json"])

    def walk(idx, inherited):
        for d in idx.get("manifests") or []:
            ann = d.get("annotations") or {}
            # containerd convention: io.containerd.image.name holds the full name and
            # ref.name only the tag; otherwise ref.name is the name (podman, skopeo, umoci)
            name = ann.get("io.containerd.image.name") or ann.get("org.opencontainers.image.ref.name")
            tags = [name] if name else inherited
            blob = members["blobs/" + d["digest"].replace(":", "/")]
            doc = json.loads(blob)
            if "manifests" in doc:
                yield from walk(doc, tags)
                continue
            yield {
                "format": "oci",
                "tags": tags,
                "config": members["blobs/" + doc["config"]["digest"].replace(":", "/")],
                "layers": [members["blobs/" + l["digest"].replace(":", "/")]
                           for l in doc["layers"]],
            }
    yield from walk(index, [])


def describe(path):
    members, outer = read_outer(path)
    images, feats, problems = [], set(), []
    seen_layers = set()
    for img in image_records(members):
        cfg = json.loads(img["config"])
        diff_ids = cfg.get("rootfs", {}).get("diff_ids", [])
        history = cfg.get("history") or []
        if any(h.get("empty_layer") for h in history):
            feats.add("emptylayer")
        comps, layers = [], []
        for i, blob in enumerate(img["layers"]):
            digest = "sha256:" + hashlib.sha256(blob).hexdigest()
            if digest in seen_layers:
                feats.add("sharedlayer")
            seen_layers.add(digest)
            raw = decompress(blob)
            diff_id = "sha256:" + hashlib.sha256(raw).hexdigest()
            if i >= len(diff_ids) or diff_ids[i] != diff_id:
                problems.append(f"layer {i} diff_id mismatch")
            lf, count = layer_features(raw)
            feats |= lf
            comp = compression_of(blob)
            comps.append(comp)
            layers.append({"digest": digest, "compression": comp, "entries": count,
                           "size": len(blob), "features": lf})
        if len(set(comps)) > 1:
            feats.add("mixedcompression")
        if len(diff_ids) != len(img["layers"]):
            problems.append("diff_ids count != layers count")
        images.append({"format": img["format"], "tags": img["tags"], "layers": layers,
                       "history": len(history),
                       "empty_history": sum(1 for h in history if h.get("empty_layer")),
                       "config": cfg})
    return {"outer": outer, "images": images, "features": feats, "problems": problems}


def sorted_feats(feats):
    return [f for f in FEATURE_ORDER if f in feats] + sorted(feats - set(FEATURE_ORDER))


def compression_summary(layers):
    counts = {}
    for l in layers:
        counts[l["compression"]] = counts.get(l["compression"], 0) + 1
    return ", ".join(f"{k}×{v}" for k, v in counts.items()) or "-"


def cmd_index(meta_path, outdir):
    rows = []
    with open(meta_path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(line.rstrip("\n").split("\t"))
    tsv = ["file\tformat\touter_compression\ttags\tlayers\tfeatures"]
    table = ["| file | format | writer (version) | tags | layers | layer compression | features | verified |",
             "|---|---|---|---|---|---|---|---|"]
    details = []
    failed = False
    for file, kind, writer, command, verified, notes in rows:
        d = describe(os.path.join(outdir, file))
        if d["problems"]:
            failed = True
            print(f"{file}: PROBLEMS {d['problems']}", file=sys.stderr)
        fmt = d["images"][0]["format"]
        tags = [t for img in d["images"] for t in img["tags"]]
        feats = sorted_feats(d["features"])
        layers = ",".join(str(len(img["layers"])) for img in d["images"])
        tsv.append("\t".join([file, fmt, d["outer"], ",".join(tags) or "-", layers,
                              ",".join(feats) or "-"]))
        all_layers = [l for img in d["images"] for l in img["layers"]]
        outer = "" if d["outer"] == "none" else f", outer {d['outer']}"
        table.append(f"| `{file}` | {kind}{outer} | {writer} | "
                     + "<br>".join(f"`{t}`" for t in tags) + f" | {layers} | "
                     + compression_summary(all_layers) + f" | {', '.join(feats)} | {verified} |")
        details.append(f"### `{file}`\n")
        details.append(f"- written by: `{command}`")
        if notes:
            details.append(f"- notes: {notes}")
        for n, img in enumerate(d["images"]):
            label = f"image {n}" if len(d["images"]) > 1 else "image"
            details.append(f"- {label}: tags {', '.join('`'+t+'`' for t in img['tags']) or '(none)'}; "
                           f"{len(img['layers'])} layer(s); history {img['history']} entries "
                           f"({img['empty_history']} empty_layer)")
            for i, l in enumerate(img["layers"]):
                details.append(f"  - layer {i}: `{l['digest'][:19]}…` {l['compression']}, "
                               f"{l['size']} B, {l['entries']} entries; "
                               f"{', '.join(sorted_feats(l['features'])) or '-'}")
        details.append("")
    with open(os.path.join(outdir, "INDEX.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(tsv) + "\n")
    print("\n".join(table))
    print("\n## Per-archive details\n")
    print("\n".join(details))
    return 1 if failed else 0


def cmd_rootfs(root):
    out = []  # (path bytes, line): sorted by path over the whole tree
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            mode = f"{stat.S_IMODE(st.st_mode):04o}"
            xattrs = ""
            try:
                names = sorted(n for n in os.listxattr(full, follow_symlinks=False)
                               if n.startswith("user."))
                xattrs = "".join(f" xattr:{n}={os.getxattr(full, n, follow_symlinks=False).decode()}"
                                 for n in names)
            except OSError:
                pass
            owner = f"{st.st_uid}:{st.st_gid}"
            if stat.S_ISDIR(st.st_mode):
                out.append((rel, f"d {mode} {owner} {rel}/{xattrs}"))
            elif stat.S_ISLNK(st.st_mode):
                out.append((rel, f"l {mode} {owner} {rel} -> {os.readlink(full)}"))
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                links = f" links={st.st_nlink}" if st.st_nlink > 1 else ""
                out.append((rel, f"f {mode} {owner} {rel} size={st.st_size} sha256={digest}{links}{xattrs}"))
            else:
                out.append((rel, f"? {mode} {owner} {rel}"))
    out.sort(key=lambda item: item[0].encode("utf-8", "surrogateescape"))
    sys.stdout.write("\n".join(line for _, line in out) + "\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "index":
        sys.exit(cmd_index(sys.argv[2], sys.argv[3]))
    if len(sys.argv) == 3 and sys.argv[1] == "rootfs":
        sys.exit(cmd_rootfs(sys.argv[2]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
