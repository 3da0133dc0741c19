#!/usr/bin/env bash
# Runs each libFuzzer harness for FUZZ_SECONDS (default 60) on a fresh seed
# corpus, two at a time, and fails if any of them finds a crash, a hang
# (an input taking over 10 s), a leak or a memory blow-up.
# FUZZ_SEED=N fixes libFuzzer's random seed and FUZZ_RUNS=N stops each
# harness after N inputs (FUZZ_SECONDS still caps the time): with both, every
# run tries the same inputs, as CI does (.ci/run); without, each run explores
# new ones.
#   usage: Fuzz/run.sh BUILD_DIR HARNESS...
set -uo pipefail
cd "$(dirname "$0")/.."
build=$1
shift
seconds=${FUZZ_SECONDS:-60}
parallel=${FUZZ_PARALLEL:-2}
fixed=()
# A fixed seed also fixes Swift's hashing (Set and Dictionary order).
[ -n "${FUZZ_SEED:-}" ] && fixed+=("-seed=$FUZZ_SEED")
[ -n "${FUZZ_RUNS:-}" ] && fixed+=("-runs=$FUZZ_RUNS")
work=$build/fuzz-run
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts" "$work/logs"
# Scratch files (each input is written to a file) on tmpfs when there is one:
# creating and deleting files on ext4 costs more than the harness itself.
tmp=$(mktemp -d "${FUZZ_TMPDIR:-$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp )}/ocitool-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

python3 Fuzz/seed.py "$work/corpus" 65536 || exit 1

max_len() {
    case $1 in
        fuzz-json) echo 16384 ;;
        *) echo 65536 ;;
    esac
}

run_one() {
    local h=$1
    mkdir -p "$work/artifacts/$h"
    # Each harness gets its own TMPDIR: the harnesses write their scratch files there.
    # SWIFT_BACKTRACE: Swift's crash reporter would run under ASan after an abort.
    env TMPDIR=$tmp SWIFT_BACKTRACE=enable=no ${FUZZ_SEED:+SWIFT_DETERMINISTIC_HASHING=1} ASAN_OPTIONS=allocator_may_return_null=1 \
        "$build/debug/$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len="$(max_len "$h")" -print_final_stats=1 -detect_leaks="${FUZZ_LEAKS:-0}" "${fixed[@]}" \
        -artifact_prefix="$work/artifacts/$h/" "$work/corpus/$h" >"$work/logs/$h.log" 2>&1
    echo $? >"$work/logs/$h.status"
}

for h in "$@"; do
    [ -x "$build/debug/$h" ] || { echo "fuzz: $build/debug/$h is missing (build first)"; exit 1; }
    run_one "$h" &
    while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n; done
done
wait

failed=0
for h in "$@"; do
    status=$(cat "$work/logs/$h.status" 2>/dev/null || echo 1)
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/logs/$h.log" | grep -o '[0-9]*$')
    cov=$(grep -o 'cov: [0-9]*' "$work/logs/$h.log" | tail -1)
    if [ "$status" = 0 ]; then
        echo "fuzz: $h ok (${runs:-?} inputs${FUZZ_SEED:+, seed $FUZZ_SEED}, ${cov:-cov ?})"
    else
        failed=1
        echo "fuzz: $h FAILED (status $status); log: $work/logs/$h.log; artifacts:"
        ls "$work/artifacts/$h" | sed "s|^|    $work/artifacts/$h/|"
        grep -E 'ERROR: |SUMMARY: |property violated|Fatal error|==[0-9]+==' "$work/logs/$h.log" | head -20 | sed 's/^/    /'
        echo "    reproduce: $build/debug/$h $work/artifacts/$h/<file>"
    fi
done
exit $failed
