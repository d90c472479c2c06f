"""Benchmark mognet_lab's scan against ``redis-cli --memkeys`` on the same keyspace.

Starts a private redis-server, writes the demo workload into it, then times
a full ``mognet_lab.connect(url, app=...).scan(...)`` in a child process (so
its peak memory is its own) and ``redis-cli --memkeys`` over the same server.

    python bench/bench_scan.py --results 250000 --repeat 3

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import redis

from mognet_lab.demo import Workload, WorkloadSummary, write_workload
from mognet_lab.embedded import EmbeddedRedis, find_redis_server

MIB = 1024 * 1024

# Runs in the child: connection details arrive on stdin so no password shows in `ps`.
_SCAN_CHILD = r"""
import json, resource, sys, time

def rss_kib(field):
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None

job = json.load(sys.stdin)
import mognet_lab
if not hasattr(mognet_lab, "connect"):
    print(json.dumps({"error": "mognet_lab.connect does not exist yet"}))
    sys.exit(0)
lab = mognet_lab.connect(job["url"], app=job["app"])
baseline = rss_kib("VmRSS")
began = time.perf_counter()
snapshot = lab.scan(progress=False, batch=job["batch"])
scan_s = time.perf_counter() - began
rows = {name: len(frame) for name, frame in snapshot.frames.items()}
# ru_maxrss is KiB on Linux (bytes on macOS); VmHWM is the same peak, Linux only.
peak = rss_kib("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"scan_s": scan_s, "rows": rows, "peak_kib": peak, "baseline_kib": baseline}))
"""


@dataclass(frozen=True)
class ScanRun:
    """One scan in a child process."""

    scan_s: float  # the scan call alone
    process_s: float  # the whole child: interpreter start, imports, connect, scan
    peak_rss_mib: float
    baseline_rss_mib: float | None  # after imports and connect, before the scan
    rows: dict[str, int]


@dataclass(frozen=True)
class MemkeysRun:
    """One ``redis-cli --memkeys`` run."""

    wall_s: float
    sampled_keys: int | None
    version: str


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=int, default=250_000,
                        help="results to write (default 250000)")
    parser.add_argument("--batch", type=int, default=1000, help="scan batch size (default 1000)")
    parser.add_argument("--app", default="bench", help="Mognet app name (default 'bench')")
    parser.add_argument("--seed", type=int, default=1, help="workload seed (default 1)")
    parser.add_argument("--repeat", type=int, default=1, help="take the best of K runs (default 1)")
    return parser.parse_args(argv)


def run_scan(server: EmbeddedRedis, app: str, batch: int) -> ScanRun | str:
    """Scan in a child process; the error text if it could not."""
    job = json.dumps({"url": server.url, "app": app, "batch": batch})
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _SCAN_CHILD], input=job, capture_output=True,
                          text=True, check=False)
    process_s = time.perf_counter() - began
    if done.returncode != 0:
        return f"scan process failed (exit {done.returncode}):\n{done.stderr.strip()[-2000:]}"
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if "error" in report:
        return str(report["error"])
    baseline = report["baseline_kib"]
    return ScanRun(scan_s=report["scan_s"], process_s=process_s,
                   peak_rss_mib=report["peak_kib"] / 1024,
                   baseline_rss_mib=None if baseline is None else baseline / 1024,
                   rows=report["rows"])


def find_redis_cli() -> str | None:
    """redis-cli from PATH, else the one next to the redis-server EmbeddedRedis runs."""
    on_path = shutil.which("redis-cli")
    if on_path:
        return on_path
    beside = Path(find_redis_server()).with_name("redis-cli")
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def run_memkeys(cli: str, server: EmbeddedRedis) -> MemkeysRun:
    env = dict(os.environ)
    if server.password:
        env["REDISCLI_AUTH"] = server.password  # not -a: keeps it out of `ps` and warnings
    args = [cli, "-h", "127.0.0.1", "-p", str(server.port), "--memkeys"]
    began = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=True)
    wall_s = time.perf_counter() - began
    sampled = re.search(r"Sampled (\d+) keys", done.stdout)
    version = subprocess.run([cli, "--version"], capture_output=True, text=True, check=False).stdout
    return MemkeysRun(wall_s, int(sampled.group(1)) if sampled else None, version.strip())


def server_figures(server: EmbeddedRedis) -> tuple[int, int]:
    """(DBSIZE, used_memory bytes) of the benchmark server."""
    client = redis.Redis.from_url(server.url)
    try:
        return int(client.dbsize()), int(client.info("memory")["used_memory"])
    finally:
        client.close()


def best_scan(server: EmbeddedRedis, app: str, batch: int, repeat: int) -> ScanRun | str:
    runs = []
    for _ in range(repeat):
        run = run_scan(server, app, batch)
        if isinstance(run, str):
            return run
        runs.append(run)
    return min(runs, key=lambda run: run.scan_s)


def best_memkeys(server: EmbeddedRedis, repeat: int) -> MemkeysRun | str:
    cli = find_redis_cli()
    if cli is None:
        return "no redis-cli found on PATH or next to redis-server: memkeys not timed"
    return min((run_memkeys(cli, server) for _ in range(repeat)), key=lambda run: run.wall_s)


def _line(label: str, value: str) -> None:
    print(f"  {label:<24}{value}")


def report(args: argparse.Namespace, written: WorkloadSummary, dbsize: int, used_memory: int,
           scan: ScanRun | str, memkeys: MemkeysRun | str) -> None:
    print(f"mognet_lab scan benchmark (best of {args.repeat})")
    _line("results written", f"{written.results:,} (app {args.app!r}, seed {args.seed}) "
          f"in {written.elapsed_s:.1f} s")
    _line("keys (DBSIZE)", f"{dbsize:,}")
    _line("Redis used_memory", f"{used_memory / MIB:,.1f} MiB")
    if isinstance(scan, ScanRun):
        _line("scan wall time", f"{scan.scan_s:.2f} s (child process total {scan.process_s:.2f} s)")
        _line("scan keys/s", f"{dbsize / scan.scan_s:,.0f}")
        baseline = ("" if scan.baseline_rss_mib is None
                    else f" (before the scan: {scan.baseline_rss_mib:,.0f} MiB)")
        _line("scan peak RSS", f"{scan.peak_rss_mib:,.0f} MiB{baseline}")
    else:
        _line("scan", scan)
    if isinstance(memkeys, MemkeysRun):
        sampled = "" if memkeys.sampled_keys is None else f", sampled {memkeys.sampled_keys:,} keys"
        _line("memkeys wall time", f"{memkeys.wall_s:.2f} s ({memkeys.version}{sampled})")
    else:
        _line("memkeys", memkeys)
    if isinstance(scan, ScanRun) and isinstance(memkeys, MemkeysRun):
        _line("scan / memkeys", f"{scan.scan_s / memkeys.wall_s:.2f}x")
    if isinstance(scan, ScanRun):
        _line("frame rows", ", ".join(f"{name}={count:,}" for name, count in scan.rows.items()))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.results < 1 or args.repeat < 1 or args.batch < 1:
        print("--results, --batch and --repeat must be at least 1", file=sys.stderr)
        return 2
    with EmbeddedRedis() as server:
        print(f"writing {args.results:,} results into a private redis-server "
              f"on port {server.port}...", flush=True)
        workload = Workload(app=args.app, results=args.results, seed=args.seed)
        written = write_workload(server, workload)
        dbsize, used_memory = server_figures(server)
        print("scanning and running redis-cli --memkeys...", flush=True)
        scan = best_scan(server, args.app, args.batch, args.repeat)
        memkeys = best_memkeys(server, args.repeat)
        report(args, written, dbsize, used_memory, scan, memkeys)
    return 1 if isinstance(scan, str) else 0


if __name__ == "__main__":
    sys.exit(main())
