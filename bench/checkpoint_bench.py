"""Checkpoint and recovery workloads of the benchmark suite (see bench/README.md):

- checkpoint-overhead: one keyed RocksDB job with checkpoints off and on, in
  the same run on the same cluster; throughputs and the loss in percent.
- checkpoint-duration: a job that builds a large keyed RocksDB state (about
  1 GB, 50 MB in quick mode) with periodic checkpoints; p50/p99/max duration and
  the full and incremental sizes, from `sluice status --json`.
- recovery: a rate-limited job on a job manager and two workers (a spare third
  is registered); one worker is SIGKILLed and the driver measures detection,
  the first new output and the return to full speed.

Each workload is a dict in bench/results/latest.json's "workloads"."""

import os
import signal
import time

from bench_util import BenchError, Cluster, percentile

# A generator of `count` rows over `keys` distinct keys into one daylong keyed
# window (count + sum per key): every key's aggregate stays in RocksDB until the
# input ends, so the state grows with the distinct keys and then is updated in place.
KEYED_STATE_JOB = """name: bench-keyed-state
config: {{state.backend.type: rocksdb}}
sources:
  - {{id: gen, type: generator, count: {count}, keys: {keys}, interval_ms: 0}}
nodes:
  - {{id: totals, from: [gen], type: window, key_by: key, window: {{tumble: 1d}},
      aggregate: {{n: "count()", total: "sum(value)", low: "min(value)", high: "max(value)", first_id: "first(id)"}}}}
sinks:
  - {{id: out, from: [totals], type: discard}}
"""

# A rate-limited generator (one reader, so event time advances evenly) into
# 10 s keyed windows that fire all the time, written by the two-phase-commit
# file sink: committed output grows at every checkpoint, so a stall and the
# recovery show in the committed bytes.
RECOVERY_JOB = """name: bench-recovery
config: {{state.backend.type: rocksdb}}
sources:
  - {{id: gen, type: generator, count: {count}, keys: 100000, interval_ms: 1, parallelism: 1}}
nodes:
  - {{id: totals, from: [gen], type: window, key_by: key, window: {{tumble: 10s}},
      aggregate: {{n: "count()", total: "sum(value)"}}}}
sinks:
  - {{id: out, from: [totals], type: file, format: jsonl, path: {output}}}
"""


def committed_bytes(directory):
    """Bytes in the committed `part-*` files of a file sink's directory."""
    total = 0
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name.startswith("part-"):
                    try:
                        total += entry.stat().st_size
                    except OSError:
                        pass
    except OSError:
        pass
    return total

TERMINAL = {"FINISHED", "FAILED", "CANCELED"}


def write_job(workdir, name, text):
    path = os.path.join(workdir, name)
    with open(path, "w") as out:
        out.write(text)
    return path


def submit(cluster, job_file, parallelism, properties):
    arguments = ["run", "-d", "-p", str(parallelism)]
    for key, value in properties.items():
        arguments += ["-D", f"{key}={value}"]
    result = cluster.client(arguments + [job_file])
    return result.stdout.strip().splitlines()[-1]


def wait_for_end(cluster, job_id, timeout, poll=0.25, on_status=None):
    """Polls until the job ends; calls on_status(status) on every poll; returns the last status."""
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = cluster.status(job_id)
        if status is not None:
            if on_status:
                on_status(status)
            if status["state"] in TERMINAL:
                return status
        time.sleep(poll)
    raise BenchError(f"job {job_id} did not end within {timeout} s (last status: {status})")


def completed_history(history_by_id):
    return [entry for _, entry in sorted(history_by_id.items()) if entry.get("status") == "COMPLETED"]


def run_keyed_job(cluster, job_file, parallelism, properties, timeout):
    """Runs a bounded job to the end; returns (wall s, engine CPU s, final status, checkpoint history by id)."""
    history = {}

    def collect(status):
        for entry in status.get("checkpoints", {}).get("history", []):
            history[entry["id"]] = entry

    cpu_before = cluster.cpu_seconds()
    start = time.monotonic()
    job_id = submit(cluster, job_file, parallelism, properties)
    final = wait_for_end(cluster, job_id, timeout, on_status=collect)
    wall = time.monotonic() - start
    cpu = cluster.cpu_seconds() - cpu_before
    if final["state"] != "FINISHED":
        raise BenchError(f"job {job_id} {final['state']}: {final.get('failure')}")
    collect(final)
    if final.get("finished_at") and final.get("submitted_at"):
        wall = (final["finished_at"] - final["submitted_at"]) / 1000.0
    return wall, cpu, final, history


def checkpoint_overhead(bin_dir, quick, workdir):
    """The keyed job with checkpoints off and on, alternating on one cluster; best run of each."""
    count, keys = (600_000, 100_000) if quick else (8_000_000, 1_000_000)
    interval = "500ms" if quick else "1s"
    rounds = 1 if quick else 2
    parallelism = 2
    job_file = write_job(workdir, "overhead.yaml", KEYED_STATE_JOB.format(count=count, keys=keys))
    cluster = Cluster(bin_dir, slots=2, workers=2, checkpoint_dir=os.path.join(workdir, "chk-overhead"),
                      workdir=workdir)
    runs = {"off": [], "on": []}
    try:
        for _ in range(rounds):
            for mode in ("off", "on"):
                properties = {"execution.checkpointing.interval": interval} if mode == "on" else {}
                wall, cpu, final, history = run_keyed_job(cluster, job_file, parallelism, properties, 600)
                runs[mode].append({"wall_seconds": wall, "cpu_seconds": cpu,
                                   "checkpoints": len(completed_history(history))})
    finally:
        cluster.stop()
    best = {mode: min(entries, key=lambda run: run["wall_seconds"]) for mode, entries in runs.items()}
    off, on = best["off"], best["on"]
    loss = (1 - off["wall_seconds"] / on["wall_seconds"]) * 100
    cpu_increase = (on["cpu_seconds"] / off["cpu_seconds"] - 1) * 100 if off["cpu_seconds"] > 0 else None

    def summary(run):
        return {"events_per_second": round(count / run["wall_seconds"]),
                "events_per_cpu_second": round(count / run["cpu_seconds"]) if run["cpu_seconds"] > 0 else None,
                "wall_seconds": round(run["wall_seconds"], 3), "cpu_seconds": round(run["cpu_seconds"], 3),
                "checkpoints_completed": run["checkpoints"]}

    return {"name": "checkpoint-overhead",
            "events_per_second": round(count / on["wall_seconds"]),
            "events_per_cpu_second": round(count / on["cpu_seconds"]) if on["cpu_seconds"] > 0 else None,
            "wall_seconds": round(on["wall_seconds"], 3), "cpu_seconds": round(on["cpu_seconds"], 3),
            "checkpoints_off": summary(off), "checkpoints_on": summary(on),
            "throughput_ratio_on_vs_off": round(off["wall_seconds"] / on["wall_seconds"], 3),
            "throughput_loss_percent": round(loss, 1),
            "cpu_per_event_increase_percent": round(cpu_increase, 1) if cpu_increase is not None else None,
            "rounds": rounds,
            "note": f"keyed window job, {count:,} generator rows over {keys:,} keys, RocksDB, -p {parallelism} on a "
                    f"job manager + 2 workers; checkpoint interval {interval}; best of {rounds} alternating run(s) "
                    f"each",
            "detail": f"off {count / off['wall_seconds']:,.0f}/s, on {count / on['wall_seconds']:,.0f}/s "
                      f"({on['checkpoints']} checkpoints), loss {loss:.1f}%"}


def checkpoint_duration(bin_dir, quick, workdir):
    """Builds a large keyed state with checkpoints every few seconds; duration and size percentiles."""
    # About 70 bytes of checkpointed state per key (measured: 600k keys, 40 MB); half the rows add keys, half
    # update them. Quick mode stays small (about 20 MB) to keep the quick suite near two minutes.
    keys = 300_000 if quick else 15_000_000
    count = 2 * keys
    interval = "1s" if quick else "3s"
    parallelism = 2
    job_file = write_job(workdir, "duration.yaml", KEYED_STATE_JOB.format(count=count, keys=keys))
    cluster = Cluster(bin_dir, slots=2, workers=2, checkpoint_dir=os.path.join(workdir, "chk-duration"),
                      workdir=workdir)
    try:
        wall, cpu, final, history = run_keyed_job(cluster, job_file, parallelism,
                                                  {"execution.checkpointing.interval": interval}, 1800)
    finally:
        cluster.stop()
    completed = completed_history(history)
    if not completed:
        raise BenchError("checkpoint-duration: no checkpoint completed")
    durations = [entry["duration_ms"] for entry in completed]
    sizes = [entry["size_bytes"] for entry in completed]
    increments = [entry["incremental_size_bytes"] for entry in completed]
    largest = max(sizes)
    # Checkpoints taken once the state had (nearly) reached its full size.
    full = [entry for entry in completed if entry["size_bytes"] >= 0.9 * largest]
    full_durations = [entry["duration_ms"] for entry in full]

    def stats(values):
        return {"p50": percentile(values, 0.5), "p99": percentile(values, 0.99), "max": max(values)}

    return {"name": "checkpoint-duration",
            "events_per_second": round(count / wall), "events_per_cpu_second": round(count / cpu) if cpu else None,
            "wall_seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
            "checkpoints_completed": len(completed), "checkpoints_failed": final["checkpoints"].get("failed"),
            "checkpoint_duration_ms": stats(durations),
            "checkpoint_duration_ms_at_full_state": stats(full_durations) | {"count": len(full)},
            "checkpoint_size_bytes": {"max": largest, "p50": percentile(sizes, 0.5)},
            "incremental_size_bytes": {"p50": percentile(increments, 0.5), "max": max(increments)},
            "alignment_ms": {"p50": percentile([e["alignment_ms"] for e in completed], 0.5),
                             "max": max(e["alignment_ms"] for e in completed)},
            # The synchronous part (write-back, memtable flush, pinning the files) on the task thread and
            # the asynchronous upload, the slowest subtask's of each checkpoint.
            "start_delay_ms": stats([e.get("start_delay_ms", 0) for e in full]),
            "sync_ms": stats([e.get("sync_ms", 0) for e in full]),
            "async_ms": stats([e.get("async_ms", 0) for e in full]),
            "note": f"{count:,} generator rows over {keys:,} keys into a keyed RocksDB window, -p {parallelism} on a "
                    f"job manager + 2 workers, checkpoint every {interval}; state {largest / 1e6:,.0f} MB at the end",
            "detail": f"{len(completed)} checkpoints, duration p50 {percentile(durations, 0.5)} ms p99 "
                      f"{percentile(durations, 0.99)} ms max {max(durations)} ms (at full state p99 "
                      f"{percentile(full_durations, 0.99)} ms); size max {largest / 1e6:,.1f} MB, incremental "
                      f"p50 {percentile(increments, 0.5) / 1e6:,.1f} MB; at full state start delay p99 "
                      f"{percentile([e.get('start_delay_ms', 0) for e in full], 0.99)} ms, sync p99 "
                      f"{percentile([e.get('sync_ms', 0) for e in full], 0.99)} ms, upload p99 "
                      f"{percentile([e.get('async_ms', 0) for e in full], 0.99)} ms"}


def commit_points(samples):
    """The (time, bytes) samples at which the committed output changed, plus the first one."""
    points = []
    for t, committed in samples:
        if not points or committed != points[-1][1]:
            points.append((t, committed))
    return points


def rate_between(first, last):
    (t0, b0), (t1, b1) = first, last
    return (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0


def recovery(bin_dir, quick, workdir):
    """SIGKILLs a worker of a rate-limited, checkpointed job; times detection, first output, full speed."""
    rate = 20_000 if quick else 50_000  # records per second (one source reader)
    before_kill, after_kill = (4.0, 7.0) if quick else (8.0, 15.0)
    window = 1.0  # seconds of the sliding throughput window
    count = int(rate * (before_kill + after_kill + 30))  # more than the run needs; cancelled at the end
    heartbeat_timeout, checkpoint_interval, restart_delay = "1s", "300ms", "200ms"
    output = os.path.join(workdir, "out")
    job_file = write_job(workdir, "recovery.yaml", RECOVERY_JOB.format(count=count, output=output))
    config = f"heartbeat.timeout: {heartbeat_timeout}\nheartbeat.interval: 200ms\n"
    cluster = Cluster(bin_dir, slots=2, workers=3, config=config, checkpoint_dir=os.path.join(workdir, "chk-recovery"),
                      heartbeat_ms=200, workdir=workdir)
    states = []  # (seconds since submit, status)
    output_samples = []  # (seconds since submit, committed bytes)
    try:
        start = time.monotonic()
        job_id = submit(cluster, job_file, 2, {
            "execution.checkpointing.interval": checkpoint_interval, "sluice.source.rate-limit": rate,
            "restart-strategy.type": "fixed-delay", "restart-strategy.fixed-delay.delay": restart_delay,
            "restart-strategy.fixed-delay.attempts": 5})

        def sample():
            output_samples.append((time.monotonic() - start, committed_bytes(output)))
            status = cluster.status(job_id)
            if status is not None:
                states.append((time.monotonic() - start, status))
            return status

        status = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = sample()
            if status and status["state"] in TERMINAL:
                raise BenchError(f"recovery: the job ended early: {status.get('failure')}")
            if output_samples[-1][1] > 0:
                break
            time.sleep(0.05)
        else:
            raise BenchError(f"recovery: no committed output within 30 s: {status}")
        output_since = output_samples[-1][0]
        while output_samples[-1][0] < output_since + before_kill:
            sample()
            time.sleep(0.05)
        status = sample()
        if status is None or status["state"] != "RUNNING":
            raise BenchError(f"recovery: the job is not running before the kill: {status}")
        victims = sorted({task["worker"] for task in status["tasks"]})
        if not victims:
            raise BenchError("recovery: the status names no worker")
        victim = victims[0]
        restarts_before = status["restarts"]
        killed_at = time.monotonic() - start
        cluster.workers[victim].send_signal(signal.SIGKILL)
        cluster.workers[victim].wait()
        while time.monotonic() - start < killed_at + after_kill:
            status = sample()
            if status and status["state"] in TERMINAL:
                raise BenchError(f"recovery: the job ended after the kill: {status.get('failure')}")
            time.sleep(0.05)
        final = cluster.status(job_id)
        cluster.client(["cancel", job_id], check=False)
    finally:
        cluster.stop()

    points = commit_points(output_samples)
    steady = [point for point in points if output_since + 1.0 <= point[0] <= killed_at]
    if len(steady) < 2:
        raise BenchError("recovery: too few commits before the kill")
    rate_before = rate_between(steady[0], steady[-1])
    bytes_at_kill = max(b for t, b in output_samples if t <= killed_at)
    detected = next((t for t, s in states if t > killed_at and (s["restarts"] > restarts_before
                                                                or s["state"] != "RUNNING")), None)
    # Commits after the kill (the first one is the first new output after the restore).
    resumed = [point for point in points if point[0] > killed_at and point[1] > bytes_at_kill]
    first_output = resumed[0][0] if resumed else None
    full_speed = None
    for index, first in enumerate(resumed):
        later = [point for point in resumed[index + 1:] if point[0] - first[0] >= window]
        if later and rate_between(first, later[0]) >= 0.9 * rate_before:
            full_speed = first[0]
            break
    tail = [point for point in resumed if point[0] >= resumed[-1][0] - 3.0] if resumed else []
    rate_after = rate_between(tail[0], tail[-1]) if len(tail) >= 2 else 0.0

    def since_kill(t):
        return round(t - killed_at, 3) if t is not None else None

    result = {"name": "recovery", "events_per_second": rate, "events_per_cpu_second": None,
              "recovery_seconds": {"detection": since_kill(detected), "first_output": since_kill(first_output),
                                   "full_speed": since_kill(full_speed)},
              "committed_bytes_per_second_before_kill": round(rate_before),
              "committed_bytes_per_second_after_recovery": round(rate_after),
              "restarts": final.get("restarts") if final else None,
              "restored_from": final.get("restored_from") if final else None,
              "killed_worker": victim,
              "note": f"generator rate-limited to {rate:,} rows/s into keyed 10 s windows and a file sink, -p 2 on a "
                      f"job manager + 3 workers (2 used, 1 spare); heartbeat every 200 ms, timeout "
                      f"{heartbeat_timeout}; checkpoint every {checkpoint_interval}; restart delay {restart_delay}; "
                      f"status and the committed part-* files polled every ~50 ms; first output = committed bytes "
                      f"grow past the amount at the kill; full speed = committed bytes/s over >= {window:.0f} s "
                      f"(between commits) within 10% of the rate before the kill"}
    seconds = result["recovery_seconds"]
    result["detail"] = (f"kill -> detected {seconds['detection']} s, first new output {seconds['first_output']} s, "
                        f"full speed {seconds['full_speed']} s (restored from checkpoint {result['restored_from']}, "
                        f"output rate {rate_after / rate_before if rate_before else 0:.2f}x before)")
    if full_speed is None:
        result["note"] += f"; full speed not reached within {after_kill:.0f} s of the kill"
    return result


WORKLOADS = [checkpoint_overhead, checkpoint_duration, recovery]
