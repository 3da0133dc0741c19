#!/usr/bin/env python3
"""Builds the seed corpus of each harness under OUT/<harness>/ at run time:
members of TestImages/ archives, the ../shared/crashers/ inputs and their
layers (copied, never committed), the hostile tars the test suite generates,
and the small committed seeds in Fuzz/seeds/. Seeds larger than the
harness's -max_len are cut, as libFuzzer would."""
import gzip, hashlib, io, os, re, shutil, subprocess, sys, tarfile

repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = sys.argv[1]
max_len = int(sys.argv[2]) if len(sys.argv) > 2 else 65536
harnesses = ["fuzz-tar", "fuzz-json", "fuzz-compression", "fuzz-unpack"]
for h in harnesses:
    os.makedirs(os.path.join(out, h), exist_ok=True)
counts = {h: 0 for h in harnesses}

def put(harness, data):
    if not data:
        return
    data = data[:max_len]
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(out, harness, name), "wb") as f:
        f.write(data)
    counts[harness] += 1

def members(data):
    """(name, bytes) of the regular members of a tar (any compression), or []."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as t:
            return [(m.name, t.extractfile(m).read()) for m in t.getmembers() if m.isfile() and m.size < (8 << 20)]
    except Exception:
        return []

def is_tar(data):
    return len(data) >= 512 and data[257:262] == b"ustar"

def plain(data):
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except Exception:
            return None
    if data[:4] == b"\x28\xb5\x2f\xfd" and shutil.which("zstd"):
        r = subprocess.run(["zstd", "-dcq"], input=data, capture_output=True)
        return r.stdout if r.returncode == 0 else None
    return data

def archive(data):
    """Seeds from one image archive: its layers for tar/unpack, JSON for json, blobs for compression."""
    for name, blob in members(data):
        if blob[:2] == b"\x1f\x8b" or blob[:4] == b"\x28\xb5\x2f\xfd":
            put("fuzz-compression", blob)
        layer = plain(blob)
        if layer and is_tar(layer):
            put("fuzz-tar", blob if len(blob) <= max_len else layer)
            put("fuzz-unpack", blob if len(blob) <= max_len else layer)
        elif blob.lstrip()[:1] in (b"{", b"["):
            put("fuzz-json", blob)

images = os.path.join(repo, "TestImages")
for n in sorted(os.listdir(images)):
    p = os.path.join(images, n)
    if os.path.isfile(p) and (n.endswith(".tar") or ".tar." in n):
        data = open(p, "rb").read()
        archive(data)
        if len(data) <= max_len:
            put("fuzz-tar", data)

crashers = os.path.normpath(os.path.join(repo, "..", "shared", "crashers"))
if os.path.isdir(crashers):
    for n in sorted(os.listdir(crashers)):
        if n.endswith(".tar"):
            data = open(os.path.join(crashers, n), "rb").read()
            put("fuzz-tar", data)
            archive(data)
else:
    print("seed: %s is missing; fuzzing without the crasher seeds" % crashers, file=sys.stderr)

# The hostile tars of the test suite (generator embedded in HostileTars.swift).
source = open(os.path.join(repo, "Tests", "OCITestSupport", "HostileTars.swift")).read()
m = re.search(r'static let generator = #"""\n(.*?)"""#', source, re.S)
if m:
    gen_dir = os.path.join(out, "hostile")
    r = subprocess.run([sys.executable, "-", gen_dir], input=m.group(1).encode(), capture_output=True)
    if r.returncode == 0:
        for n in sorted(os.listdir(gen_dir)):
            if n.endswith(".tar"):
                data = open(os.path.join(gen_dir, n), "rb").read()
                put("fuzz-tar", data)
                put("fuzz-unpack", data)
    shutil.rmtree(gen_dir, ignore_errors=True)

# Committed seeds: Fuzz/seeds/<harness-suffix>/*.
seeds = os.path.join(repo, "Fuzz", "seeds")
for sub in sorted(os.listdir(seeds)) if os.path.isdir(seeds) else []:
    harness = "fuzz-" + sub
    if harness in counts:
        for n in sorted(os.listdir(os.path.join(seeds, sub))):
            put(harness, open(os.path.join(seeds, sub, n), "rb").read())

# Small compressed streams of every kind the decoders meet.
text = b"ocitool fuzz seed\n" * 64
put("fuzz-compression", gzip.compress(text, mtime=0))
put("fuzz-compression", gzip.compress(text, mtime=0) + gzip.compress(b"second member", mtime=0))
put("fuzz-compression", gzip.compress(text, mtime=0) + b"\0" * 16)
if shutil.which("zstd"):
    r = subprocess.run(["zstd", "-qc", "--check"], input=text, capture_output=True)
    put("fuzz-compression", r.stdout)

print("seeds: " + ", ".join("%s %d" % (h, counts[h]) for h in harnesses))
