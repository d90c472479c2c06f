"""Datasets: a scan written to bucketed Parquet, read back with Dask, analysed per bucket.

The frames and analyses of a dataset are checked against the in-memory path
on the very same replies from a real redis-server (recorded once, replayed to
both), so that every figure must be equal; live scans into a dataset are
checked against live in-memory scans (TTLs tick between two scans), killed
and resumed, refused against a restarted server, and run under a memory cap.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd
import pytest

import mognet_lab
import mognet_lab.embedded
from mognet_lab import analysis
from mognet_lab.dataset import CannotResume, Dataset, open_dataset, write_dataset
from mognet_lab.dataset.writer import new_manifest
from mognet_lab.demo import Workload, write_workload
from mognet_lab.embedded import EmbeddedRedis
from mognet_lab.frames import build_frames
from mognet_lab.raw import KindBatch
from mognet_lab.reader import read_server
from mognet_lab.records import Collector
from mognet_lab.scanner import _Reading
from mognet_lab.settings import ScanSettings
from mognet_lab.snapshot import Snapshot

pytest.importorskip("dask.dataframe")

SORT = {"results": ["result_id"], "values": ["result_id"], "keys": ["key"],
        "children": ["parent_id", "child_id", "error"], "metadata": ["result_id"],
        "states": ["request_id"], "server": ["node"]}
APP = "dsapp"


class Replay:
    """Recorded batches as a dataset source; ``again`` batches are replayed a second time
    near the end, as SCAN does with keys it returns twice."""

    def __init__(self, batches: list[list[KindBatch]], servers: list[dict[str, Any]],
                 again: int = 0) -> None:
        self.batches, self.servers, self.again = batches, servers, again
        self.complete, self.warnings = True, []

    def __iter__(self) -> Iterator[list[KindBatch]]:
        yield from self.batches
        yield from self.batches[:self.again]

    def new_part(self) -> None:
        pass

    def position(self) -> dict[str, Any]:
        return {}


@pytest.fixture(scope="module")
def keyspace() -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis().start()
    try:
        write_workload(server, Workload(app=APP, results=3000, seed=5))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def recorded(keyspace: EmbeddedRedis) -> tuple[list[list[KindBatch]], list[dict[str, Any]]]:
    settings = ScanSettings(batch=250)
    with mognet_lab.connect(keyspace.url, app=APP) as lab:
        servers = [read_server(node) for node in lab.nodes]
        for node, server in zip(lab.nodes, servers):
            node.configure(server.get("redis_version"))
        batches = list(_Reading(lab.nodes, APP, settings, servers))
    return batches, servers


@pytest.fixture(scope="module")
def replayed(recorded: tuple[list[list[KindBatch]], list[dict[str, Any]]],
             tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, Snapshot]:
    """The same replies as a dataset (4 buckets, parts of 1500 keys, some keys read twice)
    and as an in-memory snapshot."""
    batches, servers = recorded
    settings = ScanSettings(batch=250)
    target = tmp_path_factory.mktemp("replayed") / "ds"
    manifest = new_manifest(app=APP, url="redis://test", settings=settings, buckets=4,
                            part_keys=1500)
    write_dataset(Replay(batches, servers, again=3), target, manifest, settings=settings)
    dataset = open_dataset(target)
    collector = Collector(settings)
    for replies in batches:
        collector.add_batch(replies)
    collector.flush()
    frames = build_frames(collector.frames, servers, consume=True,
                          metadata_fields=collector.metadata_fields,
                          max_metadata_columns=settings.max_metadata_columns)
    return dataset, Snapshot(frames, dataset.provenance)


def _sorted(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    return frame.sort_values(SORT[name], ignore_index=True, na_position="last")


def test_a_dataset_has_several_parts_and_buckets(replayed: tuple[Dataset, Snapshot]) -> None:
    dataset, snapshot = replayed
    assert dataset.buckets == 4 and dataset.record["parts"] >= 4
    assert dataset.results.npartitions == 4
    assert dataset.provenance.keys_read == len(snapshot.keys) > 6000
    sizes = dataset.results.map_partitions(len).compute().tolist()
    assert min(sizes) > 0 and sum(sizes) == len(snapshot.results)


@pytest.mark.parametrize("name", list(SORT))
def test_every_frame_equals_the_in_memory_frame(replayed: tuple[Dataset, Snapshot],
                                                name: str) -> None:
    dataset, snapshot = replayed
    frame = dataset.frame(name)
    got = frame if isinstance(frame, pd.DataFrame) else frame.compute()
    pd.testing.assert_frame_equal(_sorted(got, name), _sorted(snapshot.frames[name], name))


def test_dask_frames_declare_the_in_memory_dtypes(replayed: tuple[Dataset, Snapshot]) -> None:
    dataset, snapshot = replayed
    for name in ("results", "values", "keys", "metadata"):
        assert dict(dataset.frame(name).dtypes) == dict(snapshot.frames[name].dtypes), name
    assert str(dataset.results.dtypes["created"]) == "datetime64[ns, UTC]"
    assert dataset.results.dtypes["name"].categories.equals(
        snapshot.results["name"].cat.categories)


def test_part_of_a_dataset_is_a_snapshot(replayed: tuple[Dataset, Snapshot]) -> None:
    dataset, snapshot = replayed
    part = dataset.to_snapshot(buckets=[1])
    assert 0 < len(part.results) < len(snapshot.results)
    one = part.results["result_id"].iloc[0]
    assert part.result(one).result_id == one  # a per-row view works on it
    assert len(dataset.head(10).results) >= 10
    with pytest.raises(mognet_lab.MognetLabError, match="No bucket 7"):
        dataset.to_snapshot(buckets=[7])


ANALYSES: dict[str, Callable[[Any], pd.DataFrame]] = {
    **{f"memory_by_{by}": (lambda by: lambda s: analysis.memory_by(s, by=by))(by)
       for by in ("kind", "name", "state", "node", "age")},
    "memory_by_name_top": lambda s: analysis.memory_by(s, by="name", top=3),
    "ttl_buckets": analysis.ttl_buckets,
    "expiry_schedule": lambda s: analysis.expiry_schedule(s, horizon="7D", freq="6h"),
    "never_expiring": analysis.never_expiring,
    "value_summary": analysis.value_summary,
    "compression": analysis.compression,
    "compression_by_encoding": lambda s: analysis.compression(s, by=["encoding", "state"]),
}


def _same_rows(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Equal frames; rows whose sort key ties may come in another order (by label)."""
    labels = [c for c in want.columns if isinstance(want[c].dtype, pd.CategoricalDtype)]
    if labels and len(want) > 1:
        got, want = (f.sort_values(labels, ignore_index=True) for f in (got, want))
    pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("name", list(ANALYSES))
def test_every_analysis_equals_the_in_memory_analysis(replayed: tuple[Dataset, Snapshot],
                                                      name: str) -> None:
    dataset, snapshot = replayed
    got, want = ANALYSES[name](dataset), ANALYSES[name](snapshot)
    assert len(want) > 0
    _same_rows(got, want)


def test_anomalies_of_a_dataset_equal_the_in_memory_anomalies(
        replayed: tuple[Dataset, Snapshot]) -> None:
    dataset, snapshot = replayed
    got, want = analysis.anomalies(dataset), analysis.anomalies(snapshot)
    assert len(want) and "child_missing" not in set(want["anomaly"])
    # Read alone, a bucket misses the children held by other buckets: the dataset drops those.
    assert "child_missing" in set(analysis.anomalies(dataset.to_snapshot([0]))["anomaly"])
    order = ["anomaly", "key", "result_id", "detail"]
    pd.testing.assert_frame_equal(got.sort_values(order, ignore_index=True),
                                  want.sort_values(order, ignore_index=True))
    counted, expected = analysis.anomaly_summary(dataset), analysis.anomaly_summary(snapshot)
    columns = ["anomaly", "count", "bytes"]  # the example is one of the largest: ties differ
    pd.testing.assert_frame_equal(counted[columns].sort_values("anomaly", ignore_index=True),
                                  expected[columns].sort_values("anomaly", ignore_index=True))


def test_analyses_are_largest_first_and_add_up(replayed: tuple[Dataset, Snapshot]) -> None:
    dataset, snapshot = replayed
    by_kind = analysis.memory_by(dataset, by="kind")
    assert by_kind["bytes"].is_monotonic_decreasing
    assert by_kind["bytes"].sum() == analysis.app_bytes(snapshot)
    assert by_kind["share_of_app"].sum() == pytest.approx(1.0)


def test_what_a_dataset_does_not_offer_is_refused_clearly(
        replayed: tuple[Dataset, Snapshot]) -> None:
    with pytest.raises(mognet_lab.BadOption, match="by"):
        analysis.memory_by(replayed[0], by="family")
    with pytest.raises(mognet_lab.MognetLabError, match=r"findings\(\) needs a Snapshot"):
        analysis.findings(replayed[0])
    with pytest.raises(mognet_lab.MognetLabError, match=r"throughput\(\) needs a Snapshot"):
        analysis.throughput(replayed[0])


def test_a_distributed_cluster_gives_the_same_analyses(
        replayed: tuple[Dataset, Snapshot]) -> None:
    distributed = pytest.importorskip("distributed")
    dataset, _ = replayed
    local = {name: ANALYSES[name](dataset) for name in ("memory_by_kind", "ttl_buckets",
                                                         "compression")}
    try:
        cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                           dashboard_address=None)
    except Exception as exc:  # noqa: BLE001 - any failure to start workers
        pytest.skip(f"no local Dask cluster could start here: {exc}")
    with cluster, distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        for name, want in local.items():
            pd.testing.assert_frame_equal(ANALYSES[name](dataset), want)


# -- live scans ----------------------------------------------------------------------------
def _live_equal(got: pd.DataFrame, want: pd.DataFrame, name: str) -> None:
    """Equal but for what changes between two scans of the same keys: TTLs tick, and
    MEMORY USAGE may differ by a few bytes."""
    volatile = [c for c in ("ttl_s",) if c in want.columns]
    got, want = _sorted(got, name), _sorted(want, name)
    assert got[SORT[name][0]].tolist() == want[SORT[name][0]].tolist()
    for column in volatile:
        assert got[column].isna().tolist() == want[column].isna().tolist(), column
        assert not ((got[column] - want[column]).abs() >= 60).any(), column
    stable = [c for c in want.columns if c not in volatile and "memory" not in c]
    pd.testing.assert_frame_equal(got[stable], want[stable])


def test_lab_scan_to_a_directory_equals_an_in_memory_scan(keyspace: EmbeddedRedis,
                                                          tmp_path: Path) -> None:
    with mognet_lab.connect(keyspace.url, app=APP) as lab:
        snapshot = lab.scan(progress=False)
        dataset = lab.scan(progress=False, to=tmp_path / "ds", part_keys=2000, buckets=3)
    assert isinstance(dataset, Dataset) and dataset.buckets == 3
    for name in ("results", "values", "keys", "children", "metadata", "states"):
        _live_equal(dataset.frame(name).compute(), snapshot.frames[name], name)
    manifest = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert manifest["finished"] and len(manifest["parts"]) >= 3
    with pytest.raises(mognet_lab.MognetLabError, match="finished dataset is already"):
        mognet_lab.connect(keyspace.url, app=APP).scan(progress=False, to=tmp_path / "ds")


def test_the_cli_scans_to_a_dataset(keyspace: EmbeddedRedis, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    from mognet_lab.cli import main

    assert main(["scan", keyspace.url, "--app", APP, "--dataset", str(tmp_path / "d"),
                 "--no-progress"]) == 0
    assert "buckets to" in capsys.readouterr().out
    assert len(open_dataset(tmp_path / "d").keys) > 6000
    assert main(["scan", keyspace.url, "--app", APP, "--dataset", str(tmp_path / "e"),
                 "--frame", "keys"]) == 2


_CHILD = textwrap.dedent("""
    import sys, time
    import mognet_lab
    import mognet_lab.dataset.writer as writer

    class Slow(writer.Collector):  # a slow consumer: the parent kills it mid-scan
        def add_batch(self, batches):
            time.sleep(0.02)
            super().add_batch(batches)

    writer.Collector = Slow
    url, app, target = sys.argv[1:4]
    with mognet_lab.connect(url, app=app) as lab:
        lab.scan(progress=False, to=target, part_keys=600, buckets=2,
                 settings=mognet_lab.ScanSettings(batch=100, scan_count=100))
""")


def _killed_scan(url: str, target: Path) -> dict[str, Any]:
    """Start a dataset scan in a subprocess and SIGKILL it once two parts are written."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, url, APP, str(target)], env=env)
    manifest = target / "manifest.json"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and child.poll() is None:
            if manifest.is_file() and len(json.loads(manifest.read_text())["parts"]) >= 2:
                break
            time.sleep(0.01)
        assert child.poll() is None, "the scan ended before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    record: dict[str, Any] = json.loads(manifest.read_text())
    assert not record["finished"] and record["position"]["nodes"][0]["cursor"] != 0
    return record


def test_a_killed_scan_resumes_to_the_same_rows(keyspace: EmbeddedRedis, tmp_path: Path) -> None:
    _killed_scan(keyspace.url, tmp_path / "ds")
    with mognet_lab.connect(keyspace.url, app=APP) as lab:
        resumed = lab.scan(progress=False, to=tmp_path / "ds")
        whole = lab.scan(progress=False, to=tmp_path / "whole", part_keys=600, buckets=2)
    assert resumed.buckets == 2
    for name in ("results", "values", "keys", "children", "metadata", "states"):
        _live_equal(resumed.frame(name).compute(), whole.frame(name).compute(), name)


def test_a_restarted_server_cannot_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = EmbeddedRedis().start()
    try:
        write_workload(server, Workload(app=APP, results=1500, seed=2))
        _killed_scan(server.url, tmp_path / "ds")
        port = server.port
        server.stop()
        monkeypatch.setattr(mognet_lab.embedded, "_free_port", lambda: port)
        server = EmbeddedRedis().start()  # the same address, another server process
        write_workload(server, Workload(app=APP, results=1500, seed=2))
        with mognet_lab.connect(server.url, app=APP) as lab:
            with pytest.raises(CannotResume, match="another server process.*cannot resume"):
                lab.scan(progress=False, to=tmp_path / "ds")
    finally:
        server.stop()


# -- bounded memory ------------------------------------------------------------------------
_CAPPED = textwrap.dedent("""
    import json, resource, sys
    import dask.dataframe, pyarrow.parquet  # loaded before the cap: both runs alike
    import mognet_lab

    def vm_mib(field):
        with open("/proc/self/status") as status:
            return next(int(l.split()[1]) // 1024 for l in status if l.startswith(field))

    url, app, mode, cap, target = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    lab = mognet_lab.connect(url, app=app)
    base = vm_mib("VmPeak")
    if cap:
        resource.setrlimit(resource.RLIMIT_AS, ((base + cap) << 20, (base + cap) << 20))
    try:
        if mode == "memory":
            rows = len(lab.scan(progress=False).keys)
        else:
            rows = lab.scan(progress=False, to=target, part_keys=5000, buckets=32).provenance.keys_read
    except MemoryError:
        print(json.dumps({"failed": "MemoryError"}))
        sys.exit(3)
    print(json.dumps({"rows": rows, "grew_mib": vm_mib("VmPeak") - base}))
""")


def _capped(url: str, mode: str, cap_mib: int, target: Path) -> tuple[int, dict[str, Any]]:
    # Address space, not resident memory, is what RLIMIT_AS caps: without these, malloc's
    # per-thread arenas and Arrow's allocator reserve far more than either scan touches.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "MALLOC_ARENA_MAX": "1",
           "ARROW_DEFAULT_MEMORY_POOL": "system"}
    done = subprocess.run([sys.executable, "-c", _CAPPED, url, APP, mode, str(cap_mib),
                           str(target)], env=env, capture_output=True, text=True, timeout=300)
    lines = done.stdout.strip().splitlines()
    return done.returncode, json.loads(lines[-1]) if lines else {"stderr": done.stderr[-500:]}


def test_a_dataset_scan_completes_under_a_cap_the_in_memory_scan_exceeds(tmp_path: Path) -> None:
    server = EmbeddedRedis().start()
    try:
        write_workload(server, Workload(app=APP, results=60_000, seed=7))
        code, free = _capped(server.url, "memory", 0, tmp_path / "unused")
        assert code == 0 and free["rows"] > 120_000, free
        cap = int(free["grew_mib"] * 0.75)  # a quarter less than the in-memory scan took
        code, capped = _capped(server.url, "memory", cap, tmp_path / "unused")
        assert code != 0, f"the in-memory scan fits in {cap} MiB: the cap proves nothing"
        code, dataset = _capped(server.url, "dataset", cap, tmp_path / "ds")
        assert code == 0, dataset
        assert dataset["rows"] == free["rows"] and dataset["grew_mib"] < cap
    finally:
        server.stop()


# -- datasets from RDB dumps ----------------------------------------------------------------
@pytest.fixture(scope="module")
def dump_of_keyspace(keyspace: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory
                     ) -> Path:
    """The keyspace's own server, saved to a dump in a test directory (test setup)."""
    pytest.importorskip("rdb", reason="rdb-py (the rdb extra) is not installed")
    import redis

    client = redis.Redis.from_url(keyspace.url)
    client.save()
    saved = Path(client.config_get("dir")["dir"]) / client.config_get("dbfilename")["dbfilename"]
    dump = tmp_path_factory.mktemp("dump") / "dump.rdb"
    dump.write_bytes(saved.read_bytes())
    return dump


def test_a_dataset_from_a_dump_equals_the_dump_read_in_memory(dump_of_keyspace: Path,
                                                                tmp_path: Path) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mognet_lab.ScanWarning)
        in_memory = mognet_lab.from_rdb(dump_of_keyspace, app=APP, progress=False)
    dataset = mognet_lab.from_rdb(dump_of_keyspace, app=APP, progress=False,
                                  to=tmp_path / "ds", part_keys=1500, buckets=4)
    assert dataset.buckets == 4 and dataset.provenance.memory_modelled
    assert dataset.provenance.scanned_at == in_memory.provenance.scanned_at  # the dump's ctime
    for name in SORT:
        frame = dataset.frame(name)
        got = _sorted(frame.compute() if hasattr(frame, "compute") else frame, name)
        pd.testing.assert_frame_equal(got, _sorted(in_memory.frame(name), name),
                                      check_categorical=False)
    for name, run in ANALYSES.items():
        _same_rows(run(dataset), run(in_memory))


def test_two_dumps_of_one_keyspace_count_each_key_once(dump_of_keyspace: Path,
                                                       tmp_path: Path) -> None:
    copy = tmp_path / "copy.rdb"
    copy.write_bytes(dump_of_keyspace.read_bytes())  # as a replica's dump beside its primary's
    one = mognet_lab.from_rdb(dump_of_keyspace, app=APP, progress=False, to=tmp_path / "a")
    two = mognet_lab.from_rdb([dump_of_keyspace, copy], app=APP, progress=False,
                              to=tmp_path / "b")
    assert two.provenance.keys_read == one.provenance.keys_read > 0
    # Each dump is a server of its own in the server frame (a dump cannot say it is a
    # replica's), so shares of used_memory differ; the keys and bytes do not.
    columns = ["kind", "keys", "bytes"]
    _same_rows(analysis.memory_by(two, by="kind")[columns],
               analysis.memory_by(one, by="kind")[columns])
    assert len(two.server) == 2
    with pytest.raises(mognet_lab.AppNotFound):
        mognet_lab.from_rdb(copy, app="no_such_app", progress=False, to=tmp_path / "c")
    assert not (tmp_path / "c").exists() or not any((tmp_path / "c").iterdir())
    with pytest.raises(mognet_lab.BadOption):
        mognet_lab.from_rdb([copy, copy], app=APP, progress=False)  # several: a dataset
