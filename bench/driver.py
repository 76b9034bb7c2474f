#!/usr/bin/env python3
"""Sluice benchmark driver: runs the end-to-end workloads and the baselines in
one go, prints a table and writes bench/results/latest.json.

Workloads: Nexmark queries over the in-engine `nexmark` generator source
(examples/nexmark/generated/, discard sink, checkpoints every 10 s) on the
embedded cluster (one process) and on a cluster of a job manager and two worker
processes, plus q0 over a generated JSON-lines file so that parsing cost stays
visible; baselines (reading the input, memory copy and raw ZeroMQ for the
engine's batch messages) are measured in the same run so that results read
as ratios. CPU time counts every engine process (user + system)."""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_util import BenchError, Cluster, cpu_seconds_of, run_timed  # noqa: E402  (also for other bench modules)
import checkpoint_bench  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROW = "{:<28} {:>12} {:>14} {:>8} {:>8}"
CHECKPOINTING = ["-D", "execution.checkpointing.interval=10s"]
GENERATED_NOTE = "nexmark source, discard sink, checkpoints every 10 s"


def print_row(entry):
    """One table line (plus the workload's detail line, if any)."""
    def number(value):
        return f"{value:,}" if isinstance(value, (int, float)) else "-"
    print(ROW.format(entry["name"], number(entry.get("events_per_second")), number(entry.get("events_per_cpu_second")),
                     f"{entry['wall_seconds']:.2f}" if "wall_seconds" in entry else "-",
                     f"{entry['cpu_seconds']:.2f}" if "cpu_seconds" in entry else "-"), flush=True)
    if entry.get("error"):
        print(f"    FAILED: {entry['error']}", flush=True)
    elif entry.get("detail"):
        print(f"    {entry['detail']}", flush=True)
    if "latency_ms" in entry and isinstance(entry["latency_ms"], dict):
        print("    latency ms: " + ", ".join(f"{k} {v}" for k, v in entry["latency_ms"].items()), flush=True)


def run_module_workloads(label, named_functions, args, workloads):
    """Runs (name, function) pairs, each function(bin_dir, quick, workdir) -> a workload dict or a list of them, in
    its own scratch directory; a failure becomes an entry with an `error`. Returns False when one failed."""
    ok = True
    for name, function in named_functions:
        workdir = tempfile.mkdtemp(prefix=f"sluice-bench-{name}-")
        started = time.monotonic()
        try:
            produced = function(args.bin_dir, args.quick, workdir)
            for entry in produced if isinstance(produced, list) else [produced]:
                workloads.append(entry)
                print_row(entry)
        except Exception as error:  # noqa: BLE001 - one failing workload must not lose the others' results
            ok = False
            message = str(error) if isinstance(error, BenchError) else traceback.format_exc()
            entry = {"name": name, "error": message.strip().splitlines()[-1] if message.strip() else repr(error)}
            workloads.append(entry)
            print_row(entry)
            if not isinstance(error, BenchError):
                print(message, file=sys.stderr)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        if args.verbose:
            print(f"    ({label} {name}: {time.monotonic() - started:.1f} s)", flush=True)
    return ok


def load_payments():
    """The payments workloads' module, or None (with a line saying why) when it is missing or broken."""
    try:
        import payments_bench  # noqa: PLC0415 - optional: another module of the suite
    except Exception as error:  # noqa: BLE001 - a missing or broken module must not stop the suite
        print(f"payments workloads skipped: cannot import bench/payments_bench.py ({error})", flush=True)
        return None
    if not callable(getattr(payments_bench, "run", None)):
        print("payments workloads skipped: bench/payments_bench.py has no run(bin_dir, quick, workdir)", flush=True)
        return None
    return payments_bench


def main():
    parser = argparse.ArgumentParser(description="Sluice benchmark suite (see bench/README.md)")
    parser.add_argument("build_dir", help="build directory with bin/ (e.g. build-release)")
    parser.add_argument("--quick", action="store_true", help="reduced inputs, under two minutes")
    parser.add_argument("--only", action="append", default=[],
                        help="run only workloads whose name contains this (repeatable): e.g. nexmark-q5, cluster, "
                             "payments, checkpoint, recovery; baselines always run")
    parser.add_argument("--verbose", action="store_true", help="print each module workload's own wall time")
    args = parser.parse_args()
    bin_dir = os.path.join(ROOT, args.build_dir, "bin") if not os.path.isabs(args.build_dir) else \
        os.path.join(args.build_dir, "bin")
    args.bin_dir = bin_dir

    def wanted(name):
        return not args.only or any(part in name for part in args.only)

    suite_started = time.monotonic()
    # Generated-source workloads are cheap to feed, so they get more events than the file workload.
    events = 1_000_000 if args.quick else 5_000_000
    file_events = 200_000 if args.quick else 2_000_000
    queries = ["q0", "q1", "q2", "q5"] if args.quick else ["q0", "q1", "q2", "q3", "q5", "q7", "q8", "q11"]
    work = tempfile.mkdtemp(prefix="sluice-bench-")
    workloads = []
    all_ok = True
    try:
        input_path = os.path.join(work, "events.jsonl")
        subprocess.run([f"{bin_dir}/nexmark-file-generator", "-n", str(file_events), "-o", input_path], check=True)
        size = os.path.getsize(input_path)

        cat_wall, _ = run_timed(["cat", input_path])
        baseline = json.loads(subprocess.run([f"{bin_dir}/transport-baseline", "4096", "500" if args.quick else "3000"],
                                             capture_output=True, text=True, check=True).stdout)
        baselines = {"read_input_mb_per_second": round(size / cat_wall / 1e6),
                     "memcpy_mb_per_second": baseline["memcpy_mb_per_second"],
                     "zmq_mb_per_second": baseline["zmq_mb_per_second"],
                     "zmq_rows_per_second": baseline["zmq_rows_per_second"],
                     "batch_message_bytes": baseline["bytes_per_message"]}

        def record(name, wall, cpu, note="", count=events):
            entry = {"name": name, "events_per_second": round(count / wall),
                     "events_per_cpu_second": round(count / cpu) if cpu > 0 else None,
                     "wall_seconds": round(wall, 3), "cpu_seconds": round(cpu, 3), "events": count}
            if note:
                entry["note"] = note
            workloads.append(entry)
            print_row(entry)

        print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}; "
              f"input: {events:,} generated Nexmark events per query; file workload: {file_events:,} events, "
              f"{size / 1e6:.0f} MB")
        print(ROW.format("workload", "events/s", "events/cpu-s", "wall s", "cpu s"))
        for query in queries:
            if not wanted(f"nexmark-{query}-local"):
                continue
            wall, cpu = run_timed([f"{bin_dir}/sluice", "run", "--local", "-p", "2"] + CHECKPOINTING +
                                  [f"{ROOT}/examples/nexmark/generated/{query}.yaml", "--set", f"events={events}"])
            record(f"nexmark-{query}-local", wall, cpu, GENERATED_NOTE)

        if wanted("nexmark-q0-file-local"):
            output = os.path.join(work, "out-q0-file")
            wall, cpu = run_timed([f"{bin_dir}/sluice", "run", "--local", "-p", "2",
                                   f"{ROOT}/examples/nexmark/q0.yaml", "--set", f"events={input_path}",
                                   "--set", f"output={output}"])
            record("nexmark-q0-file-local", wall, cpu, "JSON-lines file source and file sink, no checkpoints",
                   file_events)
            shutil.rmtree(output, ignore_errors=True)

        cluster_queries = [query for query in ["q0", "q5"] if wanted(f"nexmark-{query}-cluster")]
        if cluster_queries:
            cluster = Cluster(bin_dir, slots=2, workdir=work, checkpoint_dir=os.path.join(work, "checkpoints"))
            try:
                for query in cluster_queries:
                    job_file = f"{ROOT}/examples/nexmark/generated/{query}.yaml"
                    note = "job manager + 2 worker processes, -p 4; "
                    if query == "q0":
                        # A stateless query chains into one task per slot and never crosses a process; with
                        # the source at parallelism 2 every source subtask feeds all four projections
                        # round-robin, so half of the rows travel between the workers over ZeroMQ.
                        with open(job_file) as original:
                            text = original.read()
                        job_file = os.path.join(work, "q0-exchange.yaml")
                        with open(job_file, "w") as exchange:
                            exchange.write(text.replace("    type: nexmark\n", "    type: nexmark\n    parallelism: 2\n",
                                                        1))
                        note += "source at parallelism 2 feeding 4 projections round-robin (half the rows cross " \
                                "processes); "
                    cpu_before = cluster.cpu_seconds()
                    wall, client_cpu = run_timed([f"{bin_dir}/sluice", "--jobmanager", cluster.address, "run", "-p",
                                                  "4"] + CHECKPOINTING + [job_file, "--set", f"events={events}"])
                    cpu = cluster.cpu_seconds() - cpu_before + client_cpu
                    record(f"nexmark-{query}-cluster", wall, cpu, note + GENERATED_NOTE)
            finally:
                cluster.stop()

        if wanted("payments"):
            payments = load_payments()
            if payments is not None:
                # A failure here is reported in the table and the JSON but does not fail the suite.
                run_module_workloads("payments", [("payments", payments.run)], args, workloads)

        checkpoint_workloads = [(function.__name__.replace("_", "-"), function)
                                for function in checkpoint_bench.WORKLOADS if wanted(function.__name__.replace("_", "-"))]
        all_ok = run_module_workloads("checkpoints", checkpoint_workloads, args, workloads) and all_ok

        print()
        print("baselines (same run):", ", ".join(f"{k} {v:,}" for k, v in baselines.items()))
        by_name = {w["name"]: w for w in workloads if "error" not in w}
        ratios = {}
        for query in ["q0", "q5"]:
            local, remote = by_name.get(f"nexmark-{query}-local"), by_name.get(f"nexmark-{query}-cluster")
            if local and remote:
                ratios[f"{query}_cluster_vs_local_throughput"] = round(remote["events_per_second"] /
                                                                     local["events_per_second"], 3)
        if "nexmark-q0-cluster" in by_name:
            ratios["q0_cluster_rows_vs_raw_zmq_rows"] = round(by_name["nexmark-q0-cluster"]["events_per_second"] /
                                                              baselines["zmq_rows_per_second"], 3)
            ratios["q0_cluster_rows_per_cpu_second_vs_raw_zmq_rows"] = round(
                by_name["nexmark-q0-cluster"]["events_per_cpu_second"] / baselines["zmq_rows_per_second"], 3)
        if "nexmark-q0-file-local" in by_name:
            ratios["q0_file_local_input_mb_vs_read_input"] = round(
                size / by_name["nexmark-q0-file-local"]["wall_seconds"] / 1e6 / baselines["read_input_mb_per_second"],
                3)
            if "nexmark-q0-local" in by_name:
                ratios["q0_file_vs_generated_cpu_per_event"] = round(
                    by_name["nexmark-q0-local"]["events_per_cpu_second"] /
                    by_name["nexmark-q0-file-local"]["events_per_cpu_second"], 3)
        if "checkpoint-overhead" in by_name:
            ratios["checkpoints_on_vs_off_throughput"] = by_name["checkpoint-overhead"]["throughput_ratio_on_vs_off"]
        print("ratios:", ", ".join(f"{k} {v}" for k, v in ratios.items()))
        os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
        with open(os.path.join(ROOT, "bench", "results", "latest.json"), "w") as out:
            json.dump({"machine": f"{os.cpu_count()} cores {platform.machine()}", "events": events,
                       "file_events": file_events,
                       "quick": args.quick, "workloads": workloads, "baselines": baselines, "ratios": ratios,
                       "suite_seconds": round(time.monotonic() - suite_started, 1)},
                      out, indent=1)
        print(f"results: bench/results/latest.json ({time.monotonic() - suite_started:.0f} s)")
    except BenchError as error:
        sys.exit(f"bench: {error}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not all_ok:
        sys.exit("bench: some workloads failed (see the table)")


if __name__ == "__main__":
    main()
