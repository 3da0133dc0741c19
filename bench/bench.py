#!/usr/bin/env python3
"""Times ocitool against its peers on the benchmark image (see bench/run.sh).

Each case runs RUNS times under /usr/bin/time -v; the best wall time is
reported with its CPU% and the largest peak RSS seen. MB/s is always the
image's uncompressed layer bytes (U) divided by wall time, so rows compare
as "time to process this image", as in ../shared/bench/RESULTS-baseline.md.
Every output directory is fresh for every run (a new directory tree on the
same file system), and removed afterwards.
"""
import argparse, os, re, shutil, subprocess, sys, tempfile, time

U = 1_306_298_880  # uncompressed layer bytes of the benchmark image


def timed(cmd, setup=None):
    if setup:
        setup()
    out = subprocess.run(["/usr/bin/time", "-v"] + cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr[-2000:])
        raise SystemExit(f"failed: {' '.join(cmd)}")
    t = {}
    for line in out.stderr.splitlines():
        line = line.strip()
        m = re.match(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (.*)", line)
        if m:
            parts = [float(p) for p in m.group(1).split(":")]
            wall = 0.0
            for p in parts:
                wall = wall * 60 + p
            t["wall"] = wall
        elif line.startswith("User time (seconds):"):
            t["user"] = float(line.split(":")[1])
        elif line.startswith("System time (seconds):"):
            t["sys"] = float(line.split(":")[1])
        elif line.startswith("Maximum resident set size (kbytes):"):
            t["rss"] = int(line.split(":")[1]) / 1024
    return t


def best(name, what, make_cmd, runs, work):
    results = []
    for i in range(runs):
        d = tempfile.mkdtemp(prefix=f"{name}-", dir=work)
        try:
            r = timed(make_cmd(d))
            out = os.path.join(d, "out.tar")  # archive-writing cases: record the output size
            r["out"] = os.path.getsize(out) if os.path.isfile(out) else None
            results.append(r)
        finally:
            shutil.rmtree(d, ignore_errors=True)
    b = min(results, key=lambda r: r["wall"])
    rss = max(r["rss"] for r in results)
    cpu = 100 * (b["user"] + b["sys"]) / max(b["wall"], 1e-6)
    return {"case": name, "what": what, "wall": b["wall"], "mbs": U / b["wall"] / 1e6, "cpu": cpu, "rss": rss,
            "out": b["out"]}


def table(rows, pairs):
    print("| case | what | best wall s | MB/s | CPU% | peak RSS MB | output MB |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        out = f"{r['out'] / 1e6:.1f}" if r.get("out") else ""
        print(f"| {r['case']} | {r['what']} | {r['wall']:.2f} | {r['mbs']:.0f} | {r['cpu']:.0f} | {r['rss']:.0f} | {out} |")
    print()
    by = {r["case"]: r for r in rows}
    for ours, theirs in pairs:
        if ours in by and theirs in by:
            size = ""
            if by[ours].get("out") and by[theirs].get("out"):
                size = f", output {100 * (by[ours]['out'] / by[theirs]['out'] - 1):+.1f}% size"
            print(f"- {ours} vs {theirs}: {by[theirs]['wall'] / by[ours]['wall']:.2f}x faster{size}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--img", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default=os.environ.get("BENCH_WORK", "/var/tmp"))
    ap.add_argument("--only", default="", help="comma-separated case name prefixes")
    a = ap.parse_args()
    docker_tar = f"{a.img}/big-docker.tar"
    oci_gz = f"{a.img}/big-oci-gzip.tar"
    ob = os.path.abspath(a.bin)
    cases = [
        ("ocitool.load.raw", "ocitool load big-docker.tar (digest + diff_id verify + store)",
         lambda d: [ob, "load", "-q", "--root", f"{d}/store", docker_tar]),
        ("skopeo.load.raw", "skopeo copy --dest-oci-accept-uncompressed-layers docker-archive: oci:",
         lambda d: ["skopeo", "--insecure-policy", "copy", "-q", "--dest-oci-accept-uncompressed-layers",
                    f"docker-archive:{docker_tar}", f"oci:{d}/layout:big"]),
        ("ocitool.load.ociarch", "ocitool load big-oci-gzip.tar (digest + gunzip diff_id verify + store)",
         lambda d: [ob, "load", "-q", "--root", f"{d}/store", oci_gz]),
        ("skopeo.load.ociarch", "skopeo copy oci-archive: oci: (no diff_id check)",
         lambda d: ["skopeo", "--insecure-policy", "copy", "-q", f"oci-archive:{oci_gz}:big", f"oci:{d}/layout:big"]),
    ]
    # Prepared inputs shared by the save/unpack/convert cases (made once, untimed).
    prep = os.path.join(a.work, "ocitool-bench-prep")
    store = os.path.join(prep, "store")
    store_gz = os.path.join(prep, "store-gz")  # the gzip OCI layout loaded: same blobs umoci unpacks
    raw_layout = os.path.join(prep, "layout-raw")
    oci_layout = os.path.join(a.img, "oci-layout")

    def prepare():
        os.makedirs(prep, exist_ok=True)
        if not os.path.exists(os.path.join(store, "index.json")):
            subprocess.run([ob, "load", "-q", "--root", store, docker_tar], check=True)
        if not os.path.exists(os.path.join(store_gz, "index.json")):
            subprocess.run([ob, "load", "-q", "--root", store_gz, oci_layout], check=True)
            image_id = subprocess.run([ob, "images", "-q", "--no-trunc", "--root", store_gz], check=True,
                                      capture_output=True, text=True).stdout.split()[0]
            subprocess.run([ob, "tag", "--root", store_gz, image_id, "big:latest"], check=True)
        if not os.path.exists(os.path.join(raw_layout, "index.json")):
            subprocess.run(["skopeo", "--insecure-policy", "copy", "-q", "--dest-oci-accept-uncompressed-layers",
                            f"docker-archive:{docker_tar}", f"oci:{raw_layout}:big"], check=True)

    ref = "localhost/ocitool-bench/big:latest"
    cases += [
        ("ocitool.save.raw", "ocitool save (docker format, uncompressed layers as stored)",
         lambda d: [ob, "save", "-q", "--root", store, "-o", f"{d}/out.tar", ref]),
        ("skopeo.save.raw", "skopeo copy oci:(uncompressed layout) docker-archive:",
         lambda d: ["skopeo", "--insecure-policy", "copy", "-q", f"oci:{raw_layout}:big", f"docker-archive:{d}/out.tar:{ref}"]),
        ("ocitool.save.gzip", "ocitool save --compress gzip --format oci (from the store)",
         lambda d: [ob, "save", "-q", "--root", store, "--compress", "gzip", "--format", "oci", "-o", f"{d}/out.tar", ref]),
        ("skopeo.save.gzip", "skopeo copy docker-archive: oci-archive: (gzip)",
         lambda d: ["skopeo", "--insecure-policy", "copy", "-q", f"docker-archive:{docker_tar}", f"oci-archive:{d}/out.tar:big"]),
        ("ocitool.unpack", "ocitool unpack (gzip layers from the store) -> fresh dir",
         lambda d: [ob, "unpack", "--root", store_gz, "big:latest", f"{d}/rootfs"]),
        ("umoci.unpack", "umoci raw unpack (same gzip OCI layout) -> fresh dir",
         lambda d: ["umoci", "raw", "unpack", "--image", f"{oci_layout}:big", f"{d}/rootfs"]),
    ]
    # convert: archive to archive, no store (targets: oci+gzip -> docker >= 3x skopeo,
    # docker -> oci+gzip >= 2x with output <= 10% larger, zstd >= 2x).
    conv = [ob, "convert", "-q"]
    cases += [
        ("ocitool.convert.docker-ocigz", "ocitool convert big-docker.tar --format oci --compress gzip (block-parallel ISA-L, all cores)",
         lambda d: conv + [docker_tar, "--format", "oci", "--compress", "gzip", "-o", f"{d}/out.tar"]),
        ("skopeo.convert.docker-ocigz", "skopeo copy docker-archive: oci-archive: (gzip)",
         lambda d: ["skopeo", "--insecure-policy", "copy", "-q", f"docker-archive:{docker_tar}", f"oci-archive:{d}/out.tar:big"]),
        ("ocitool.convert.ocigz-docker", "ocitool convert big-oci-gzip.tar --format docker --compress none (decompress)",
         lambda d: conv + [oci_gz, "--format", "docker", "--compress", "none", "-o", f"{d}/out.tar"]),
        ("skopeo.convert.ocigz-docker", "skopeo copy oci-archive: docker-archive: (decompress)",
         lambda d: ["skopeo", "--insecure-policy", "copy", "-q", f"oci-archive:{oci_gz}:big", f"docker-archive:{d}/out.tar:{ref}"]),
        ("ocitool.convert.docker-ocizstd", "ocitool convert big-docker.tar --format oci --compress zstd (multi-threaded zstd)",
         lambda d: conv + [docker_tar, "--format", "oci", "--compress", "zstd", "-o", f"{d}/out.tar"]),
        ("skopeo.convert.docker-ocizstd", "skopeo copy --dest-compress-format zstd docker-archive: oci-archive:",
         lambda d: ["skopeo", "--insecure-policy", "copy", "-q", "--dest-compress-format", "zstd",
                    f"docker-archive:{docker_tar}", f"oci-archive:{d}/out.tar:big"]),
        ("ocitool.convert.docker-ocigz-1thread", "as docker-ocigz with --threads 1 (one ISA-L stream's speed, same bytes)",
         lambda d: conv + [docker_tar, "--format", "oci", "--compress", "gzip", "--threads", "1", "-o", f"{d}/out.tar"]),
        ("ocitool.convert.docker-ocigz-zlib6", "as docker-ocigz with --level 6 (zlib -6, block-parallel on all cores)",
         lambda d: conv + [docker_tar, "--format", "oci", "--compress", "gzip", "--level", "6", "-o", f"{d}/out.tar"]),
    ]
    only = [p for p in a.only.split(",") if p]
    prepare()
    rows = []
    for name, what, cmd in cases:
        if only and not any(name.startswith(p) for p in only):
            continue
        sys.stderr.write(f"running {name} x{a.runs}\n")
        rows.append(best(name, what, cmd, a.runs, a.work))
    pairs = [(n, n.replace("ocitool.", "skopeo.", 1)) for n, _, _ in cases if n.startswith("ocitool.")]
    pairs += [(n, n.replace("ocitool.", "umoci.", 1)) for n, _, _ in cases if n.startswith("ocitool.")]
    table(rows, pairs)


if __name__ == "__main__":
    main()
