"""Helpers the benchmark modules share: CPU accounting from /proc, timed
commands, percentiles and a cluster of real processes (a job manager and
workers on 127.0.0.1) with a client for it."""

import json
import os
import resource
import subprocess
import time


class BenchError(Exception):
    """A workload could not run (a command failed or a job did not finish)."""


def cpu_seconds_of(pid):
    """user + system CPU seconds of a live process, from /proc; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def run_timed(argv):
    """Runs a command; returns (wall seconds, CPU seconds of it and its children).
    Raises BenchError with its stderr when it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    result = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(argv)} failed:\n{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def percentile(values, fraction):
    """The nearest-rank percentile of `values` (fraction in [0, 1]); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-fraction * len(ordered) // 1))))
    return ordered[rank - 1]


class Cluster:
    """A job manager and workers as separate processes on 127.0.0.1.

    `config` is the text of the job manager's --config file (Flink-style keys),
    `checkpoint_dir` its --checkpoint-dir; workers heartbeat every
    `heartbeat_ms`; with `workdir`, the config file and the workers' local
    state live there. Not thread-safe; stop() ends every process it started."""

    def __init__(self, bin_dir, slots, workers=2, config=None, checkpoint_dir=None, heartbeat_ms=None, workdir=None):
        self.bin_dir = bin_dir
        self.slots = slots
        self.heartbeat_ms = heartbeat_ms
        self.workdir = workdir
        argv = [f"{bin_dir}/sluice-jobmanager", "--port", "0", "--log-level", "error"]
        if config is not None:
            path = os.path.join(workdir, "cluster.yaml")
            with open(path, "w") as out:
                out.write(config)
            argv += ["--config", path]
        if checkpoint_dir is not None:
            argv += ["--checkpoint-dir", checkpoint_dir]
        self.manager = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.port = self.manager.stdout.readline().strip()
        if not self.port:
            self.manager.wait()
            raise BenchError(f"the job manager did not start ({' '.join(argv)})")
        self.address = f"127.0.0.1:{self.port}"
        self.workers = {}
        for index in range(workers):
            self.start_worker(f"bench-worker-{index}")
        self.wait_for_workers(workers)

    def start_worker(self, worker_id):
        argv = [f"{self.bin_dir}/sluice-worker", "--jobmanager", self.address, "--slots", str(self.slots), "--id",
                worker_id, "--log-level", "error"]
        if self.heartbeat_ms is not None:
            argv += ["--heartbeat-interval-ms", str(self.heartbeat_ms)]
        if self.workdir is not None:  # local state under the bench's scratch directory, even after a SIGKILL
            argv += ["--data-dir", os.path.join(self.workdir, f"data-{worker_id}")]
        self.workers[worker_id] = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self.workers[worker_id]

    def wait_for_workers(self, count, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self.client(["workers", "--json"], check=False)
            if result.returncode == 0 and result.stdout.strip() and len(json.loads(result.stdout)) >= count:
                return
            time.sleep(0.1)
        raise BenchError(f"fewer than {count} workers registered within {timeout} s")

    def client(self, arguments, check=True, timeout=600):
        result = subprocess.run([f"{self.bin_dir}/sluice", "--jobmanager", self.address] + arguments,
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise BenchError(f"sluice {' '.join(arguments)} failed:\n{result.stderr}")
        return result

    def status(self, job_id):
        """`sluice status JOB --json` as a dict, or None when the call fails."""
        result = self.client(["status", job_id, "--json"], check=False)
        if result.returncode != 0 or not result.stdout.strip():
            return None
        return json.loads(result.stdout)

    def pids(self):
        return [self.manager.pid] + [worker.pid for worker in self.workers.values() if worker.poll() is None]

    def cpu_seconds(self):
        return sum(cpu_seconds_of(pid) for pid in self.pids())

    def stop(self):
        processes = list(self.workers.values()) + [self.manager]
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
