#!/usr/bin/env python3
"""Sluice benchmark driver: runs the end-to-end workloads and the baselines in
one go, prints a table and writes bench/results/latest.json.

Workloads: Nexmark queries over a generated JSON-lines file on the embedded
cluster (one process) and on a cluster of a job manager and two worker
processes; baselines (reading the input, memory copy and raw ZeroMQ for the
engine's batch messages) are measured in the same run so that results read
as ratios. CPU time counts every engine process (user + system)."""

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_seconds_of(pid):
    """user + system CPU seconds of a live process, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def run_timed(argv):
    """Runs a command; returns (wall seconds, CPU seconds of it and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    result = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} failed:\n{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


class Cluster:
    """A job manager and two workers as separate processes on 127.0.0.1."""

    def __init__(self, bin_dir, slots):
        self.bin_dir = bin_dir
        self.manager = subprocess.Popen([f"{bin_dir}/sluice-jobmanager", "--port", "0", "--log-level", "error"],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.port = self.manager.stdout.readline().strip()
        self.address = f"127.0.0.1:{self.port}"
        self.workers = [subprocess.Popen([f"{bin_dir}/sluice-worker", "--jobmanager", self.address, "--slots",
                                          str(slots), "--id", f"bench-worker-{i}", "--log-level", "error"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(2)]
        for _ in range(100):
            out = subprocess.run([f"{bin_dir}/sluice", "--jobmanager", self.address, "workers", "--json"],
                                 capture_output=True, text=True).stdout
            if out.strip() and len(json.loads(out)) == 2:
                break
            time.sleep(0.1)

    def pids(self):
        return [self.manager.pid] + [worker.pid for worker in self.workers]

    def stop(self):
        for process in self.workers + [self.manager]:
            process.terminate()
        for process in self.workers + [self.manager]:
            process.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build_dir")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    bin_dir = os.path.join(ROOT, args.build_dir, "bin")
    events = 200_000 if args.quick else 2_000_000
    queries = ["q0", "q1", "q2", "q5"] if args.quick else ["q0", "q1", "q2", "q3", "q5", "q7", "q8", "q11"]
    work = tempfile.mkdtemp(prefix="sluice-bench-")
    workloads = []
    try:
        input_path = os.path.join(work, "events.jsonl")
        subprocess.run([f"{bin_dir}/nexmark-file-generator", "-n", str(events), "-o", input_path], check=True)
        size = os.path.getsize(input_path)

        cat_wall, _ = run_timed(["cat", input_path])
        baseline = json.loads(subprocess.run([f"{bin_dir}/transport-baseline", "4096", "500" if args.quick else "3000"],
                                             capture_output=True, text=True, check=True).stdout)
        baselines = {"read_input_mb_per_second": round(size / cat_wall / 1e6),
                     "memcpy_mb_per_second": baseline["memcpy_mb_per_second"],
                     "zmq_mb_per_second": baseline["zmq_mb_per_second"],
                     "zmq_rows_per_second": baseline["zmq_rows_per_second"],
                     "batch_message_bytes": baseline["bytes_per_message"]}

        def record(name, wall, cpu, note=""):
            entry = {"name": name, "events_per_second": round(events / wall),
                     "events_per_cpu_second": round(events / cpu) if cpu > 0 else None,
                     "wall_seconds": round(wall, 3), "cpu_seconds": round(cpu, 3)}
            if note:
                entry["note"] = note
            workloads.append(entry)
            print(f"{name:<28} {entry['events_per_second']:>12,} {entry['events_per_cpu_second'] or 0:>14,}"
                  f" {wall:>8.2f} {cpu:>8.2f}", flush=True)

        print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}; "
              f"input: {events:,} Nexmark events, {size / 1e6:.0f} MB")
        print(f"{'workload':<28} {'events/s':>12} {'events/cpu-s':>14} {'wall s':>8} {'cpu s':>8}")
        for query in queries:
            output = os.path.join(work, f"out-{query}")
            wall, cpu = run_timed([f"{bin_dir}/sluice", "run", "--local", "-p", "2",
                                   f"{ROOT}/examples/nexmark/{query}.yaml", "--set", f"events={input_path}",
                                   "--set", f"output={output}"])
            record(f"nexmark-{query}-local", wall, cpu)
            shutil.rmtree(output, ignore_errors=True)

        cluster = Cluster(bin_dir, slots=2)
        try:
            for query in ["q0", "q5"]:
                output = os.path.join(work, f"cluster-{query}")
                cpu_before = sum(cpu_seconds_of(pid) for pid in cluster.pids())
                wall, client_cpu = run_timed([f"{bin_dir}/sluice", "--jobmanager", cluster.address, "run", "-p", "4",
                                              f"{ROOT}/examples/nexmark/{query}.yaml", "--set",
                                              f"events={input_path}", "--set", f"output={output}"])
                cpu = sum(cpu_seconds_of(pid) for pid in cluster.pids()) - cpu_before + client_cpu
                record(f"nexmark-{query}-cluster", wall, cpu, "job manager + 2 worker processes, -p 4")
                shutil.rmtree(output, ignore_errors=True)
        finally:
            cluster.stop()

        print()
        print("baselines (same run):", ", ".join(f"{k} {v:,}" for k, v in baselines.items()))
        by_name = {w["name"]: w for w in workloads}
        ratios = {}
        for query in ["q0", "q5"]:
            local, remote = by_name.get(f"nexmark-{query}-local"), by_name.get(f"nexmark-{query}-cluster")
            if local and remote:
                ratios[f"{query}_cluster_vs_local_throughput"] = round(remote["events_per_second"] /
                                                                     local["events_per_second"], 3)
        ratios["q0_cluster_rows_vs_raw_zmq_rows"] = round(by_name["nexmark-q0-cluster"]["events_per_second"] /
                                                          baselines["zmq_rows_per_second"], 3)
        ratios["q0_local_input_mb_vs_read_input"] = round(
            size / by_name["nexmark-q0-local"]["wall_seconds"] / 1e6 / baselines["read_input_mb_per_second"], 3)
        print("ratios:", ", ".join(f"{k} {v}" for k, v in ratios.items()))
        os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
        with open(os.path.join(ROOT, "bench", "results", "latest.json"), "w") as out:
            json.dump({"machine": f"{os.cpu_count()} cores {platform.machine()}", "events": events,
                       "quick": args.quick, "workloads": workloads, "baselines": baselines, "ratios": ratios},
                      out, indent=1)
        print("results: bench/results/latest.json")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
