#!/usr/bin/env python3
"""Payment-risk benchmark (the flagship job, examples/payments/risk.yaml, F1).

`run(bin_dir, quick, workdir)` returns workload dicts for bench/driver.py:
- payments-local: throughput of F1 at -p 2 on the embedded cluster over a file
  written by sluice-payments-gen (1 M accounts in full mode), as transactions
  per second (wall) and per CPU-second (user + system of the engine process).
- payments-local latency (same entry, "latency_ms"): in-engine alert latency
  p50/p99/p99.9 at a fixed offered rate of about 50% of the measured rate, with
  B = 0 (out_of_orderness_ms=0), execution.buffer-timeout 1ms and small source
  batches, read from the job's stats file (the stats sink's "latency_ms").
- payments-cluster: the throughput run on a job manager and two worker
  processes at -p 4 (CPU time sums every engine process; same helper as
  bench/driver.py's Cluster, copied so that this module stands alone).

Run alone: python3 bench/payments_bench.py build-release [--quick] [--no-cluster]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_util import BenchError, Cluster, run_timed  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JOB = os.path.join(ROOT, "examples", "payments", "risk.yaml")
MODEL = os.path.join(ROOT, "examples", "payments", "model.json")
RULES = os.path.join(ROOT, "examples", "payments", "rules.json")

# Generated input: (accounts, merchants, days). Full mode: 1 M accounts, one day
# (about 2 M transactions at the generator's default 2 per account per day).
FULL = (1_000_000, 20_000, 1)
QUICK = (20_000, 2_000, 2)
# How long the latency run offers load at most (full, quick). Only alerts reach
# the sink, and a job starting on this data alerts rarely at first (345 alerts in
# the first 1.2 M records, 15,018 in the whole 2 M: the profiles, labels and
# merchant fraud counts build up over the day), so the full run replays the
# whole file (about 80 s at half speed) to collect enough alerts for p99.9.
LATENCY_SECONDS = (90, 4)
MIN_ALERTS_FOR_P999 = 1000
LATENCY_SHARE = 0.5  # offered rate as a share of the measured sustainable rate


def _job_arguments(job, events, out_dir, extra_sets=()):
    arguments = [job, "--set", f"transactions={events}", "--set", f"output={out_dir}/alerts",
                 "--set", f"late={out_dir}/late", "--set", f"stats={out_dir}/stats.json",
                 "--set", f"model={MODEL}", "--set", f"rules={RULES}"]
    for setting in extra_sets:
        arguments += ["--set", setting]
    return arguments


def _read_stats(out_dir):
    with open(os.path.join(out_dir, "stats.json")) as stats:
        return json.load(stats)


def _small_batch_job(workdir, batch_size):
    """risk.yaml with the CSV source reading `batch_size` rows per poll (for the latency run)."""
    with open(JOB) as job:
        text = job.read()
    text, replaced = re.subn(r"^(\s*)type: payments_csv\s*$", rf"\g<0>\n\g<1>batch_size: {batch_size}", text,
                             count=1, flags=re.M)
    if replaced != 1:
        raise RuntimeError(f"payments bench: no 'type: payments_csv' source in {JOB}")
    path = os.path.join(workdir, "risk-latency.yaml")
    with open(path, "w") as out:
        out.write(text)
    return path


def _generate(bin_dir, workdir, quick):
    accounts, merchants, days = QUICK if quick else FULL
    data = os.path.join(workdir, "payments-data")
    start = time.monotonic()
    subprocess.run([os.path.join(bin_dir, "sluice-payments-gen"), "--out", data, "--accounts", str(accounts),
                    "--merchants", str(merchants), "--days", str(days), "--seed", "7", "--quiet"], check=True)
    events = os.path.join(data, "events.csv")
    with open(events, "rb") as lines:
        records = sum(1 for _ in lines) - 1
    return events, records, accounts, time.monotonic() - start


def _prefix(events, records, workdir):
    """The first `records` records of `events` (with its header), as a new file."""
    path = os.path.join(workdir, "latency-events.csv")
    with open(events) as source, open(path, "w") as out:
        for index, line in enumerate(source):
            if index > records:
                break
            out.write(line)
    return path


def _cluster_run(bin_dir, events, out_dir):
    """F1 at -p 4 on a job manager and two worker processes (two slots each) on
    127.0.0.1; returns (wall seconds, CPU seconds of every engine process)."""
    cluster = Cluster(bin_dir, slots=2, workers=2)
    try:
        cpu_before = cluster.cpu_seconds()
        wall, client_cpu = run_timed([os.path.join(bin_dir, "sluice"), "--jobmanager", cluster.address, "run", "-p",
                                      "4"] + _job_arguments(JOB, events, out_dir))
        cpu = cluster.cpu_seconds() - cpu_before + client_cpu
    finally:
        cluster.stop()
    return wall, cpu


def run(bin_dir, quick, workdir, cluster=True, log=print):
    """Runs the payment workloads; returns a list of workload dicts (see the module doc)."""
    sluice = os.path.join(bin_dir, "sluice")
    events, records, accounts, generate_seconds = _generate(bin_dir, workdir, quick)
    log(f"payments: generated {records:,} records ({accounts:,} accounts) in {generate_seconds:.1f} s")
    workloads = []

    # Throughput: as fast as the job goes.
    out_dir = os.path.join(workdir, "payments-throughput")
    wall, cpu = run_timed([sluice, "run", "--local", "-p", "2"] + _job_arguments(JOB, events, out_dir))
    stats = _read_stats(out_dir)
    txns = stats["txns"]
    local = {"name": "payments-local", "events_per_second": round(txns / wall),
             "events_per_cpu_second": round(txns / cpu) if cpu > 0 else None,
             "wall_seconds": round(wall, 3), "cpu_seconds": round(cpu, 3), "transactions": txns,
             "records": records, "accounts": accounts, "alerts": stats["alerts"],
             "note": "F1 risk.yaml, -p 2, embedded cluster, RocksDB state; events = transactions"}
    workloads.append(local)
    log(f"payments: throughput run {txns:,} transactions in {wall:.2f} s wall, {cpu:.2f} s CPU")
    shutil.rmtree(out_dir, ignore_errors=True)

    # Latency: a fixed offered rate at about half the sustainable one, B = 0, 1 ms buffer timeout.
    offered = max(1000, int(LATENCY_SHARE * records / wall))
    seconds = LATENCY_SECONDS[1 if quick else 0]
    prefix = _prefix(events, min(records, offered * seconds), workdir)
    batch = max(1, offered // 1000)  # about 1 ms of records per source poll
    job = _small_batch_job(workdir, batch)
    out_dir = os.path.join(workdir, "payments-latency")
    run_timed([sluice, "run", "--local", "-p", "2", "-D", f"sluice.source.rate-limit={offered}", "-D",
                "execution.buffer-timeout=1ms"] + _job_arguments(job, prefix, out_dir, ["out_of_orderness_ms=0"]))
    latency = _read_stats(out_dir).get("latency_ms", {})
    local["latency_ms"] = {key: latency.get(key) for key in ("p50", "p99", "p999")}
    local["latency_offered_records_per_second"] = offered
    local["latency_alerts"] = latency.get("alerts", 0)
    if latency.get("alerts", 0) < MIN_ALERTS_FOR_P999:
        local["latency_note"] = f"p99.9 from only {latency.get('alerts', 0)} alerts: approximate"
    log(f"payments: latency run at {offered:,} records/s offered (up to {seconds} s, {batch} rows per poll): "
        f"{latency}")
    shutil.rmtree(out_dir, ignore_errors=True)

    if cluster:
        out_dir = os.path.join(workdir, "payments-cluster")
        wall, cpu = _cluster_run(bin_dir, events, out_dir)
        txns = _read_stats(out_dir)["txns"]
        workloads.append({"name": "payments-cluster", "events_per_second": round(txns / wall),
                          "events_per_cpu_second": round(txns / cpu) if cpu > 0 else None,
                          "wall_seconds": round(wall, 3), "cpu_seconds": round(cpu, 3), "transactions": txns,
                          "note": "F1 risk.yaml, job manager + 2 worker processes, -p 4"})
        log(f"payments: cluster run {txns:,} transactions in {wall:.2f} s wall, {cpu:.2f} s CPU")
        shutil.rmtree(out_dir, ignore_errors=True)
    return workloads


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", help="build directory holding bin/sluice and bin/sluice-payments-gen")
    parser.add_argument("--quick", action="store_true", help="a small input (seconds instead of minutes)")
    parser.add_argument("--no-cluster", action="store_true", help="skip payments-cluster")
    args = parser.parse_args()
    bin_dir = os.path.join(ROOT, args.build_dir, "bin")
    workdir = tempfile.mkdtemp(prefix="sluice-payments-bench-")
    try:
        workloads = run(bin_dir, args.quick, workdir, cluster=not args.no_cluster)
    except (RuntimeError, BenchError) as error:
        sys.exit(str(error))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{'workload':<18} {'txn/s':>10} {'txn/cpu-s':>10} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9}")
    for workload in workloads:
        latency = workload.get("latency_ms") or {}
        cells = [f"{latency[k]:.3f}" if latency.get(k) is not None else "-" for k in ("p50", "p99", "p999")]
        print(f"{workload['name']:<18} {workload['events_per_second']:>10,} "
              f"{workload['events_per_cpu_second'] or 0:>10,} {cells[0]:>8} {cells[1]:>8} {cells[2]:>9}")
    print(json.dumps(workloads, indent=1))


if __name__ == "__main__":
    main()
