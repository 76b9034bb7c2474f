#!/usr/bin/env bash
# `make demo`: runs the flagship payment-risk jobs (F1 fixed model, F2 online
# learning) on the embedded local cluster over the bundled sample and prints a
# risk analyst's summary, then the Nexmark example queries in brief.
set -euo pipefail
BUILD_DIR=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SLUICE="$ROOT/$BUILD_DIR/bin/sluice"
PAYMENTS="$ROOT/tests/data/payments"
EVENTS="$ROOT/tests/data/nexmark/events.jsonl"
WORK=$(mktemp -d /tmp/sluice-demo-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

now() { date +%s.%N; }

# run_payments VARIANT JOB: runs one payment job; leaves alerts, stats and wall seconds in $WORK/VARIANT*.
run_payments() {
  local variant=$1 job=$2 start end
  start=$(now)
  "$SLUICE" run --local -p 2 "$ROOT/examples/payments/$job" \
    --set transactions="$PAYMENTS/events.csv" --set output="$WORK/$variant-alerts" \
    --set late="$WORK/$variant-late" --set stats="$WORK/$variant-stats.json" \
    --set model="$ROOT/examples/payments/model.json" --set rules="$ROOT/examples/payments/rules.json" \
    >/dev/null 2>"$WORK/$variant.log" || { cat "$WORK/$variant.log" >&2; exit 1; }
  end=$(now)
  echo "$start $end" | awk '{printf "%.3f\n", $2 - $1}' >"$WORK/$variant.seconds"
}

echo "Sluice demo: real-time payment risk (examples/payments) on the bundled sample, embedded local cluster, -p 2"
echo "  input: tests/data/payments/events.csv ($(($(wc -l <"$PAYMENTS/events.csv") - 1)) records: transactions and delayed fraud labels)"
echo "  F1 risk.yaml: per-account and per-merchant features, fixed logistic model, rule set (examples/payments/rules.json)"
echo "  F2 risk-online.yaml: the same, with a model that learns online from the delayed fraud labels"
run_payments fixed risk.yaml
run_payments online risk-online.yaml

python3 - "$WORK" "$PAYMENTS/truth.csv" <<'PYTHON'
import csv, glob, json, os, sys
work, truth_path = sys.argv[1], sys.argv[2]
fraud, scenario_of = set(), {}
with open(truth_path) as truth:
    for row in csv.DictReader(truth):
        if row["is_fraud"] == "1":
            fraud.add(int(row["txn_id"]))
            scenario_of[int(row["txn_id"])] = row["scenario"]
scenarios = sorted({s for s in scenario_of.values()})

results = {}
for variant in ("fixed", "online"):
    alerts = []
    for part in sorted(glob.glob(os.path.join(work, f"{variant}-alerts", "part-*"))):
        with open(part) as lines:
            alerts += [json.loads(line) for line in lines if line.strip()]
    with open(os.path.join(work, f"{variant}-stats.json")) as stats_file:
        stats = json.load(stats_file)
    with open(os.path.join(work, f"{variant}.seconds")) as seconds_file:
        seconds = float(seconds_file.read())
    alerted = {a["txn_id"] for a in alerts}
    hits = sum(1 for a in alerts if a["txn_id"] in fraud)
    results[variant] = dict(alerts=alerts, stats=stats, seconds=seconds, alerted=alerted, hits=hits)

rules = ["CARD_TESTING", "IMPOSSIBLE_TRAVEL", "ML_BLOCK", "VELOCITY", "AMOUNT_SPIKE", "ATO", "MERCHANT_RISK",
         "ML_REVIEW"]
rules += sorted({a["primary_rule"] for r in results.values() for a in r["alerts"]} - set(rules))
rows = []
def row(label, f):
    rows.append((label, f(results["fixed"]), f(results["online"])))
def count(n):
    return f"{n:,}"
def ms(r, key):
    latency = r["stats"].get("latency_ms", {})
    return f"{latency[key]:.2f}" if key in latency else "n/a"

row("transactions", lambda r: count(r["stats"]["txns"]))
row("late records (dropped)", lambda r: count(r["stats"]["late"]))
row("alerts", lambda r: count(len(r["alerts"])))
for decision in ("BLOCK", "REVIEW"):
    row(f"  {decision}", lambda r, d=decision: count(sum(1 for a in r["alerts"] if a["decision"] == d)))
rows.append(("alerts by primary rule", "", ""))
for rule in rules:
    row(f"  {rule}", lambda r, x=rule: count(sum(1 for a in r["alerts"] if a["primary_rule"] == x)))
row("precision (alerts that are fraud)", lambda r: f"{r['hits'] / max(len(r['alerts']), 1):.1%}")
row("recall (fraud transactions alerted)", lambda r: f"{len(r['alerted'] & fraud) / max(len(fraud), 1):.1%}")
rows.append(("recall by injected scenario", "", ""))
for scenario in scenarios:
    members = {t for t, s in scenario_of.items() if s == scenario}
    row(f"  {scenario} ({len(members)})", lambda r, m=members: f"{len(r['alerted'] & m) / len(m):.1%}")
row("model updates (online learning)", lambda r: count(r["stats"].get("model_updates", 0)))
row("throughput (transactions/s, wall)", lambda r: count(round(r["stats"]["txns"] / r["seconds"])))
row("  wall seconds incl. job start", lambda r: f"{r['seconds']:.2f}")
row("in-engine latency p50 (ms)", lambda r: ms(r, "p50"))
row("in-engine latency p99 (ms)", lambda r: ms(r, "p99"))
row("in-engine latency p99.9 (ms)", lambda r: ms(r, "p999"))

print()
print(f"{'':<38} {'F1 fixed':>12} {'F2 online':>12}")
for label, fixed, online in rows:
    print(f"{label:<38} {fixed:>12} {online:>12}")
print()
print("Precision and recall are against tests/data/payments/truth.csv (an alert is a hit when its")
print("transaction is fraud). Latency runs from the source reading a transaction to its alert reaching")
print("the alert sink; this replay reads the file as fast as it can and holds records B = 5 s of event")
print("time for reordering, so it measures a burst, not a steady rate (see bench/payments_bench.py).")
PYTHON

echo
echo "Top alerts of F1 (highest score first):"
python3 - "$WORK" <<'PYTHON'
import glob, json, os, sys
alerts = []
for part in glob.glob(os.path.join(sys.argv[1], "fixed-alerts", "part-*")):
    with open(part) as lines:
        alerts += [json.loads(line) for line in lines if line.strip()]
alerts.sort(key=lambda a: (-a["score_milli"], a["txn_id"]))
print(f"  {'txn_id':>8} {'account':>8} {'decision':<8} {'primary rule':<18} {'score':>6} {'amount':>10} {'cnt_10m':>7}")
for a in alerts[:5]:
    print(f"  {a['txn_id']:>8} {a['account_id']:>8} {a['decision']:<8} {a['primary_rule']:<18}"
          f" {a['score_milli'] / 1000:>6.3f} {a['amount_minor'] / 100:>10.2f} {a['cnt_10m']:>7}")
PYTHON

echo
echo "Nexmark example queries on $(wc -l <"$EVENTS") auction events (same cluster, -p 2):"
printf '  %-5s %-52s %9s\n' query "what it computes" "rows out"
for query in q0 q1 q2 q3 q5 q7 q8 q11; do
  case $query in
    q0) what="every bid, projected (pass-through)" ;;
    q1) what="every bid with its price converted to euros" ;;
    q2) what="bids on every 123rd auction" ;;
    q3) what="local item suggestions (auction x person join)" ;;
    q5) what="hot items: most-bid auctions per sliding window" ;;
    q7) what="highest bids per 10 s tumbling window" ;;
    q8) what="new users who opened auctions (window join)" ;;
    q11) what="bids per user session (session windows)" ;;
  esac
  "$SLUICE" run --local -p 2 "$ROOT/examples/nexmark/$query.yaml" \
    --set events="$EVENTS" --set output="$WORK/$query" >/dev/null 2>"$WORK/$query.log" || {
    cat "$WORK/$query.log" >&2
    exit 1
  }
  rows=$(cat "$WORK/$query"/part-* 2>/dev/null | wc -l)
  printf '  %-5s %-52s %9s\n' "$query" "$what" "$rows"
done
