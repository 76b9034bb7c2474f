#!/usr/bin/env bash
# `make demo`: runs Nexmark example jobs on the embedded local cluster over the
# bundled sample and prints a short summary of each.
set -euo pipefail
BUILD_DIR=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SLUICE="$ROOT/$BUILD_DIR/bin/sluice"
EVENTS="$ROOT/tests/data/nexmark/events.jsonl"
WORK=$(mktemp -d /tmp/sluice-demo-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

echo "Sluice demo: Nexmark queries on $(wc -l < "$EVENTS") auction events, embedded local cluster, parallelism 2"
echo
printf '%-6s %-55s %10s\n' query "what it computes" "rows out"
for query in q0 q1 q2 q3 q5 q7 q8 q11; do
  case $query in
    q0) what="every bid, projected (pass-through)";;
    q1) what="every bid with its price converted to euros";;
    q2) what="bids on every 123rd auction";;
    q3) what="local item suggestions (auction x person join)";;
    q5) what="hot items: most-bid auctions per sliding window";;
    q7) what="highest bids per 10 s tumbling window";;
    q8) what="new users who opened auctions (window join)";;
    q11) what="bids per user session (session windows)";;
  esac
  "$SLUICE" run --local -p 2 "$ROOT/examples/nexmark/$query.yaml" \
    --set events="$EVENTS" --set output="$WORK/$query" >/dev/null 2>"$WORK/$query.log" || {
      cat "$WORK/$query.log" >&2; exit 1; }
  rows=$(cat "$WORK/$query"/part-* 2>/dev/null | wc -l)
  printf '%-6s %-55s %10s\n' "$query" "$what" "$rows"
  sed 's/^/         /' "$WORK/$query.log"
done
echo
echo "Sample output of q5, hot items (first 3 rows):"
cat "$WORK"/q5/part-* | head -3 | sed 's/^/  /'
