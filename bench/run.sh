#!/usr/bin/env bash
# make bench: builds the 1.3 GB benchmark image once (cached in $BENCH,
# default /var/tmp/ocitool-bench, outside the repo), builds ocitool in release
# mode, and prints ocitool next to skopeo/umoci and the raw tools, best of
# $RUNS runs. `--quick` (make bench-quick): the load rows only.
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH=${BENCH:-/var/tmp/ocitool-bench}
RUNS=${RUNS:-3}
command -v /usr/bin/time >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time; }
command -v jq >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq; }
# igzip (Debian package isal: ISA-L's own command line tool) for the raw-tool rows.
command -v igzip >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends isal; }
if [ ! -f "$BENCH/img/big-docker.tar" ] || [ ! -f "$BENCH/img/big-oci-gzip.tar" ]; then
  echo "building the benchmark image into $BENCH (3-5 minutes, once)" >&2
  bash ../shared/bench/make-big-image.sh >&2
fi
make -s release >&2  # static Swift runtime, as shipped
exec python3 bench/bench.py --bin .build/release/ocitool --img "$BENCH/img" --runs "$RUNS" "$@"
