#!/usr/bin/env python3
"""Writes the release link's function order (make order -> release/ocitool.order).

Why: peak RSS counts the executable's code pages that are mapped, and the
kernel maps them in blocks around each page fault (fault-around), so code
run at start-up and on the hot paths, scattered over a 25 MB .text, maps
far more than it runs. lld places the functions listed in this file first,
in this order (`--symbol-ordering-file`); the bench rows then map a few
compact megabytes of code instead of 12-15 MB.

How: runs the bench verbs on the small profile image (make-profile-image.py)
under `valgrind --tool=callgrind`, which records every function executed
(instruction counts, not timing: the same on any machine), and lists the
executed functions that the binary defines, those used by most workloads
first, so that start-up and the code every verb shares lie together.
Registry cases run against a private docker-registry on 127.0.0.1, as in
bench.py. Only the order of code changes: a stale or missing entry makes
nothing wrong, only less compact (the link ignores unknown names).

Usage: make-order.py BINARY OUT [WORK]
"""
import collections, os, re, shutil, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Registry  # noqa: E402

BIN, OUT = sys.argv[1], sys.argv[2]
WORK = sys.argv[3] if len(sys.argv) > 3 else "/var/tmp/ocitool-order"
PROFILE = "/var/tmp/ocitool-profile"
REF = "localhost/ocitool-profile/img:latest"


def main():
    if not os.path.exists(f"{PROFILE}/profile-oci-gzip.tar"):
        subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "make-profile-image.py"), PROFILE], check=True)
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    defined = set()
    for line in subprocess.run(["nm", "--defined-only", BIN], capture_output=True, text=True, check=True).stdout.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in "tTwW":
            defined.add(p[2])
    # valgrind 3.19 cannot read the DWARF 5 the toolchain writes: profile a
    # copy without debug info (same code and symbols).
    binary = f"{WORK}/ocitool"
    subprocess.run(["strip", "--strip-debug", "-o", binary, BIN], check=True)
    docker, ocigz = f"{PROFILE}/profile-docker.tar", f"{PROFILE}/profile-oci-gzip.tar"
    s1, s2 = f"{WORK}/store", f"{WORK}/store-gz"
    reg = Registry(WORK)
    try:
        host = reg.host
        workloads = [
            ("load-docker", ["--root", s1, "load", "-q", docker]),
            ("load-ocigz", ["--root", s2, "load", "-q", ocigz]),
            ("tag", None),
            ("images", ["--root", s2, "images"]),
            ("inspect", ["--root", s2, "inspect", REF]),
            ("save-raw", ["--root", s1, "save", "-q", "-o", f"{WORK}/save.tar", REF]),
            ("save-gzip", ["--root", s1, "save", "-q", "--compress", "gzip", "--format", "oci", "-o", f"{WORK}/save-gz.tar", REF]),
            ("unpack", ["--root", s2, "unpack", REF, f"{WORK}/rootfs"]),
            ("export", ["--root", s2, "export", "-o", f"{WORK}/export.tar", REF]),
            ("convert-gzip", ["convert", docker, "--format", "oci", "--compress", "gzip", "-o", f"{WORK}/c-gz.tar"]),
            ("convert-zstd", ["convert", docker, "--format", "oci", "--compress", "zstd", "-o", f"{WORK}/c-zstd.tar"]),
            ("convert-docker", ["convert", ocigz, "--format", "docker", "--compress", "none", "-o", f"{WORK}/c-docker.tar"]),
            ("push", ["push", "-q", "--root", s2, REF, f"{host}/profile/img:1"]),
            ("pull", ["pull", "-q", "--root", f"{WORK}/store-pull", f"{host}/profile/img:1"]),
        ]
        used = collections.Counter()
        calls = collections.Counter()
        for name, args in workloads:
            if args is None:  # not profiled: the OCI archive's image gets the docker archive's name
                image_id = subprocess.run([BIN, "images", "-q", "--no-trunc", "--root", s2], check=True,
                                          capture_output=True, text=True).stdout.split()[0]
                subprocess.run([BIN, "tag", "--root", s2, image_id, REF], check=True)
                continue
            out = f"{WORK}/{name}.callgrind"
            sys.stderr.write(f"profiling {name}\n")
            subprocess.run(["valgrind", "--tool=callgrind", "--demangle=no", "--compress-strings=no", "--compress-pos=no",
                            "--dump-instr=no", f"--callgrind-out-file={out}", binary] + args,
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            # Self cost per function: a cost line after `calls=` is the
            # callee's inclusive cost, not the caller's own.
            seen = collections.Counter()
            current, call_line = None, False
            with open(out, errors="replace") as f:
                for line in f:
                    if line.startswith("fn="):
                        current = line[3:].strip()
                        seen[current] += 0
                    elif line.startswith("calls="):
                        call_line = True
                    elif current is not None and re.match(r"^\d+ \d+", line):
                        if not call_line:
                            seen[current] += int(line.split()[1])
                        call_line = False
            for fn, cost in seen.items():
                if fn in defined:
                    used[fn] += 1
                    calls[fn] += cost
            os.remove(out)
    finally:
        reg.stop()
        shutil.rmtree(WORK, ignore_errors=True)
    # Most workloads first (start-up and shared code together), then by cost.
    order = sorted(used, key=lambda fn: (-used[fn], -calls[fn], fn))
    with open(OUT, "w") as f:
        for fn in order:
            f.write(fn + "\n")
    sys.stderr.write(f"{len(order)} functions -> {OUT}\n")


if __name__ == "__main__":
    main()
