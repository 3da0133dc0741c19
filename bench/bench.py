#!/usr/bin/env python3
"""Times ocitool against its peers on the benchmark image (see bench/run.sh).

Each case runs RUNS times under /usr/bin/time -v; the best wall time is
reported with its user+sys CPU and the largest peak RSS seen. Registry cases
(push, no-op push, pull) run against a private docker-registry on 127.0.0.1
started and stopped here (--only registry selects them alone). MB/s is always the
image's uncompressed layer bytes (U) divided by wall time, so rows compare
as "time to process this image", as in ../shared/bench/RESULTS-baseline.md.
Every output directory is fresh for every run (a new directory tree on the
same file system), and removed afterwards.
"""
import argparse, json, os, re, shutil, socket, subprocess, sys, tempfile, time

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
    row = summary(name, what, results)
    row["out"] = min(results, key=lambda r: r["wall"])["out"]
    return row


class Registry:
    """Debian's docker-registry (distribution 2.8.2) on 127.0.0.1 and a free
    port, with a private config and storage in a temp dir; stopped (by PID)
    and removed by stop()."""

    def __init__(self, work):
        self.dir = tempfile.mkdtemp(prefix="bench-registry-", dir=work)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.host = f"127.0.0.1:{self.port}"
        config = os.path.join(self.dir, "config.yml")
        with open(config, "w") as f:
            f.write(f"""version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {self.dir}/data
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: {self.host}
  secret: bench-{os.getpid()}-{self.port}
""")
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_") and not k.startswith("OTEL_")}
        self.log = open(os.path.join(self.dir, "registry.log"), "w")
        self.proc = subprocess.Popen(["docker-registry", "serve", config], stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise SystemExit("docker-registry did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def registry_cases(ob, oci_layout, store_gz, runs, work):
    """push, pull and a no-op push: ocitool vs skopeo, same registry build,
    same run. Each push gets a fresh registry (new port, empty storage), so
    neither tool finds blobs there, nor in skopeo's blob-info cache."""
    rows = []
    q = ["--tls-verify=false"]

    def push_case(name, what, cmd):
        results = []
        for _ in range(runs):
            reg = Registry(work)
            try:
                results.append(timed(cmd(reg.host)))
            finally:
                reg.stop()
        rows.append(summary(name, what, results))

    sys.stderr.write(f"running registry push cases x{runs}\n")
    push_case("ocitool.push", "ocitool push (gzip store image) -> empty docker-registry",
              lambda h: [ob, "push", "-q", "--root", store_gz, "big:latest", f"{h}/bench/big:1"])
    push_case("skopeo.push", "skopeo copy oci:(gzip layout) docker:// (layers kept) -> empty docker-registry",
              lambda h: ["skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false",
                         f"oci:{oci_layout}:big", f"docker://{h}/bench/big:1"])
    reg = Registry(work)
    try:
        ref = f"{reg.host}/bench/big:1"
        subprocess.run([ob, "push", "-q", "--root", store_gz, "big:latest", ref], check=True)
        sys.stderr.write(f"running registry no-op push and pull cases x{runs}\n")
        rows.append(best("ocitool.push.noop", "ocitool push, everything already in the registry",
                         lambda d: [ob, "push", "-q", "--root", store_gz, "big:latest", ref], runs, work))
        rows.append(best("skopeo.push.noop", "skopeo copy oci: docker://, everything already in the registry",
                         lambda d: ["skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false",
                                    f"oci:{oci_layout}:big", f"docker://{ref}"], runs, work))
        rows.append(best("ocitool.pull", "ocitool pull -> fresh store (digest + size + diff_id verified)",
                         lambda d: [ob, "pull", "-q", "--root", f"{d}/store", ref], runs, work))
        rows.append(best("skopeo.pull", "skopeo copy docker:// oci: -> fresh layout (digest verified)",
                         lambda d: ["skopeo", "--insecure-policy", "copy", "-q", "--src-tls-verify=false",
                                    f"docker://{ref}", f"oci:{d}/layout:big"], runs, work))
    finally:
        reg.stop()
    return rows


def summary(name, what, results):
    """Best of the runs: the lowest wall time and the lowest user+sys CPU
    (each the best run for that figure), the largest peak RSS seen."""
    b = min(results, key=lambda r: r["wall"])
    cpus = min(r["user"] + r["sys"] for r in results)
    return {"case": name, "what": what, "wall": b["wall"], "mbs": U / b["wall"] / 1e6,
            "cpu": 100 * (b["user"] + b["sys"]) / max(b["wall"], 1e-6),
            "rss": max(r["rss"] for r in results), "out": None, "cpus": cpus, "runs": len(results)}


def peer_of(name, by):
    """The peer row an ocitool row is compared with: skopeo.X, else umoci.X."""
    for tool in ("skopeo.", "umoci."):
        other = name.replace("ocitool.", tool, 1)
        if other in by:
            return by[other]
    return None


def table(rows, pairs):
    """Every row with its figures; ocitool rows with the ratio to their peer
    from the same run (wall: peer / ocitool, >1 = ocitool faster; CPU:
    ocitool / peer, <1 = ocitool uses less) and, for load rows, the CPU
    ratio to the raw tools doing the same work (raw.* rows)."""
    by = {r["case"]: r for r in rows}
    runs = max((r.get("runs", 0) for r in rows), default=0)
    print(f"Best of {runs} runs: wall = lowest, user+sys = lowest, peak RSS = highest; MB/s = {U:,} uncompressed layer bytes / wall.")
    print()
    print("| case | what | wall s | user+sys s | CPU% | MB/s | peak RSS MB | vs peer (wall) | CPU vs peer | CPU vs raw | output MB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        out = f"{r['out'] / 1e6:.1f}" if r.get("out") else ""
        vs = cpu_vs = raw_vs = ""
        if r["case"].startswith("ocitool."):
            p = peer_of(r["case"], by)
            if p:
                tool = p["case"].split(".")[0]
                vs = f"{p['wall'] / r['wall']:.2f}x {tool}"
                cpu_vs = f"{r['cpus'] / max(p['cpus'], 1e-6):.2f}x"
            raw = by.get(r["case"].replace("ocitool.", "raw.", 1))
            if raw:
                raw_vs = f"{r['cpus'] / max(raw['cpus'], 1e-6):.2f}x"
        what = r["what"].replace("|", "\\|")
        print(f"| {r['case']} | {what} | {r['wall']:.2f} | {r['cpus']:.2f} | {r['cpu']:.0f} | {r['mbs']:.0f} | {r['rss']:.0f} | {vs} | {cpu_vs} | {raw_vs} | {out} |")
    print()
    for ours, theirs in pairs:
        if ours in by and theirs in by:
            size = ""
            if by[ours].get("out") and by[theirs].get("out"):
                size = f", output {100 * (by[ours]['out'] / by[theirs]['out'] - 1):+.1f}% size"
            cpu = f", {by[theirs]['cpus'] / max(by[ours]['cpus'], 1e-6):.2f}x less CPU"
            print(f"- {ours} vs {theirs}: {by[theirs]['wall'] / by[ours]['wall']:.2f}x faster{cpu}{size}")


def layer_blobs(layout):
    """Paths of the layer blobs of the first image of an OCI layout."""
    def blob(d):
        return os.path.join(layout, "blobs", *d.split(":"))
    with open(os.path.join(layout, "index.json")) as f:
        md = json.load(f)["manifests"][0]
    with open(blob(md["digest"])) as f:
        return [blob(l["digest"]) for l in json.load(f)["layers"]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--img", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default=os.environ.get("BENCH_WORK", "/var/tmp"))
    ap.add_argument("--only", default="", help="comma-separated case name prefixes")
    ap.add_argument("--quick", action="store_true",
                    help="the load rows only (gzip OCI load and uncompressed docker load, ocitool, skopeo and the raw tools)")
    a = ap.parse_args()
    if a.quick:
        a.only = "ocitool.load.,skopeo.load.,raw.load."
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
    # The raw tools doing the work of each load, one after the other: their
    # user+sys sum is what "CPU vs raw" compares with (their wall time is a
    # sum too, not a peer's). gzip: ISA-L inflate of the layer blobs, SHA-256
    # (OpenSSL, SHA-NI) of the blobs and of the uncompressed layers (the tar
    # holding them: the same bytes plus 18 KB). Uncompressed: read + SHA-256
    # + write the archive once, fsynced.
    blobs = " ".join(layer_blobs(os.path.join(a.img, "oci-layout")))
    cases += [
        ("raw.load.raw", "raw: tee copy < big-docker.tar, piped to openssl sha256, then fsync the copy (read+digest+store)",
         lambda d: ["sh", "-c", f"tee {d}/copy < {docker_tar} | openssl dgst -sha256 > /dev/null && sync {d}/copy"]),
        ("raw.load.ociarch", "raw: igzip -dc blobs; openssl sha256 blobs; openssl sha256 of the 1.3 GB tar (CPU sum)",
         lambda d: ["sh", "-c", f"igzip -dc {blobs} > /dev/null && openssl dgst -sha256 {blobs} > /dev/null"
                                f" && openssl dgst -sha256 {docker_tar} > /dev/null"]),
    ]
    # Prepared inputs shared by the save/unpack/convert cases (made once, untimed).
    prep = os.path.join(a.work, "ocitool-bench-prep")
    store = os.path.join(prep, "store")
    store_gz = os.path.join(prep, "store-gz")  # the gzip OCI layout loaded: same blobs umoci unpacks
    raw_layout = os.path.join(prep, "layout-raw")
    oci_layout = os.path.join(a.img, "oci-layout")
    merged_tree = os.path.join(prep, "merged-rootfs")  # ocitool unpack of the image, for raw.export-tree

    def prepare():
        os.makedirs(prep, exist_ok=True)
        if not os.path.exists(os.path.join(store, "index.json")):
            subprocess.run([ob, "load", "-q", "--root", store, docker_tar], check=True)
        if not os.path.exists(os.path.join(store_gz, "index.json")):
            subprocess.run([ob, "load", "-q", "--root", store_gz, oci_layout], check=True)
            image_id = subprocess.run([ob, "images", "-q", "--no-trunc", "--root", store_gz], check=True,
                                      capture_output=True, text=True).stdout.split()[0]
            subprocess.run([ob, "tag", "--root", store_gz, image_id, "big:latest"], check=True)
        if not os.path.isdir(merged_tree):
            subprocess.run([ob, "unpack", "--root", store_gz, "big:latest", merged_tree], check=True)
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
        # The pipe limit: each layer inflated and extracted by GNU tar, in
        # order, into one directory (whiteouts land as plain .wh. files).
        ("raw.unpack", "raw: igzip -dc LAYER | tar -x, each layer in order -> fresh dir (no whiteout handling)",
         lambda d: ["sh", "-c", f"mkdir {d}/rootfs && for b in {blobs}; do igzip -dc $b | tar -x -C {d}/rootfs || exit 1; done"]),
        ("ocitool.export", "ocitool export (gzip layers from the store) -> one merged tar",
         lambda d: [ob, "export", "--root", store_gz, "-o", f"{d}/out.tar", "big:latest"]),
        # The streaming limit of crane export (no crane here): every layer
        # inflated once and its bytes written to one file, fsynced like
        # ocitool's -o (no whiteouts, no second pass). The target row.
        ("raw.export", "raw: igzip -dc of every layer into one file, then fsync (crane export-style streaming limit)",
         lambda d: ["sh", "-c", f"igzip -dc {blobs} > {d}/out.tar && sync {d}/out.tar"]),
        # For reference: GNU tar writing the merged tree (made once by
        # ocitool unpack, untimed), no inflate at all.
        ("raw.export-tree", "raw: tar -c of the merged tree (already unpacked, no inflate) -> one tar, then fsync",
         lambda d: ["sh", "-c", f"tar -cf {d}/out.tar -C {merged_tree} . && sync {d}/out.tar"]),
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
    rows = []
    prepared = False
    for name, what, cmd in cases:
        if only and not any(name.startswith(p) for p in only):
            continue
        if ".load." not in name and not prepared:
            prepare()  # the stores and layouts the save/unpack/convert cases read
            prepared = True
        sys.stderr.write(f"running {name} x{a.runs}\n")
        rows.append(best(name, what, cmd, a.runs, a.work))
    # Registry cases (push, no-op push, pull): --only registry, or no --only.
    registry_names = ["ocitool.push", "skopeo.push", "ocitool.push.noop", "skopeo.push.noop", "ocitool.pull", "skopeo.pull"]
    if not only or any(p == "registry" or any(n.startswith(p) for n in registry_names) for p in only):
        if not prepared:
            prepare()
        rows += registry_cases(ob, oci_layout, store_gz, a.runs, a.work)
    names = [n for n, _, _ in cases] + registry_names
    pairs = [(n, n.replace("ocitool.", "skopeo.", 1)) for n in names if n.startswith("ocitool.")]
    pairs += [(n, n.replace("ocitool.", "umoci.", 1)) for n in names if n.startswith("ocitool.")]
    # unpack and export beside the raw tools' limit (wall: within 1.5x is the target).
    pairs += [(n, n.replace("ocitool.", "raw.", 1)) for n in names if n in ("ocitool.unpack", "ocitool.export")]
    pairs += [("ocitool.export", "raw.export-tree")]  # for reference: no inflate at all
    table(rows, pairs)


if __name__ == "__main__":
    main()
