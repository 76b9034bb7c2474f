#!/usr/bin/env bash
# The benchmark suite: end-to-end throughput of Nexmark q0-q2 on the embedded
# cluster over a generated file, with a baseline measured in the same run.
# Usage: bench/run.sh BUILD_DIR [--quick]
set -euo pipefail
BUILD_DIR=${1:-build-release}
QUICK=${2:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/$BUILD_DIR/bin"
RESULTS="$ROOT/bench/results"
WORK=$(mktemp -d /tmp/sluice-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$RESULTS"

EVENTS=2000000
[ "$QUICK" = "--quick" ] && EVENTS=200000
"$BIN/nexmark-file-generator" -n "$EVENTS" -o "$WORK/events.jsonl"
BYTES=$(stat -c %s "$WORK/events.jsonl")

run_timed() {
  # GNU time may be missing; use python's resource module around the child.
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
start = time.monotonic()
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{wall:.4f} {usage.ru_utime + usage.ru_stime:.4f} {code}")
PY
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "input: $EVENTS generated Nexmark events ($((BYTES / 1000000)) MB of JSON lines)"
read -r base_wall base_cpu _ < <(run_timed cat "$WORK/events.jsonl")
printf '%-22s %12s %14s %16s %10s\n' workload "events/s" "events/cpu-s" "MB/s (input)" "vs cat"
printf '%-22s %12s %14s %16.0f %10s\n' "baseline: cat file" "-" "-" "$(echo "$BYTES / $base_wall / 1000000" | bc -l)" "1.00"

json_workloads=""
for query in q0 q1 q2; do
  for p in 1 2; do
    rm -rf "$WORK/out"
    read -r wall cpu code < <(run_timed "$BIN/sluice" run --local -p "$p" "$ROOT/examples/nexmark/$query.yaml" \
      --set events="$WORK/events.jsonl" --set output="$WORK/out")
    if [ "$code" != "0" ]; then echo "$query failed" >&2; exit 1; fi
    eps=$(echo "$EVENTS / $wall" | bc -l)
    epc=$(echo "$EVENTS / $cpu" | bc -l)
    mbs=$(echo "$BYTES / $wall / 1000000" | bc -l)
    ratio=$(echo "$base_wall / $wall" | bc -l)
    name="nexmark-$query-local-p$p"
    printf '%-22s %12.0f %14.0f %16.0f %10.3f\n' "$name" "$eps" "$epc" "$mbs" "$ratio"
    json_workloads+="${json_workloads:+,}{\"name\":\"$name\",\"events_per_second\":$(printf '%.0f' "$eps"),\"events_per_cpu_second\":$(printf '%.0f' "$epc")}"
  done
done
cat > "$RESULTS/latest.json" <<JSON
{"machine": "$(nproc) cores", "events": $EVENTS, "workloads": [$json_workloads], "baselines": {"cat_file_mb_per_second": $(printf '%.0f' "$(echo "$BYTES / $base_wall / 1000000" | bc -l)")}}
JSON
echo "results: bench/results/latest.json"
