"""Dumps that are not what they should be, and dumps much larger than the app.

A truncated dump, a corrupt one, a file that is not RDB, an RDB version the
parser does not know: a one-line BadDump (CLI exit 6), never a traceback or a
hang. A dump holding other apps and data types gives only the app's keys, and
a dump of many MB is read in a bounded amount of memory.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import tracemalloc
import warnings
from pathlib import Path
from typing import Iterator

import pytest
import redis

import mognet_lab
from mognet_lab.cli import EXIT_CODES, main
from mognet_lab.demo import Workload, write_workload
from mognet_lab.embedded import EmbeddedRedis

pytest.importorskip("rdb")

BIG_STRINGS, BIG_STRING_BYTES = 120, 64 << 10  # ~7.5 MiB of another app's data


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A dump of one small app among other apps' keys of every type and 7.5 MiB of strings."""
    where = tmp_path_factory.mktemp("rdb-bad")
    with EmbeddedRedis(extra_args=["--dir", str(where)]) as server:
        write_workload(server, Workload(app="small", results=40, seed=5))
        write_workload(server, Workload(app="other", results=40, seed=6))
        client = redis.Redis.from_url(server.url)
        for i in range(BIG_STRINGS):  # random bytes: LZF cannot shrink them
            client.set(f"blob:{i}", os.urandom(BIG_STRING_BYTES))
        client.rpush("queue", *[f"job-{i}" for i in range(500)])
        client.zadd("ranks", {f"m{i}": i for i in range(300)})
        client.xadd("events", {"k": "v"})
        client.hset("small2.mognet.result.x", "id", "1")  # a neighbour app's name
        client.select(1)
        client.hset("small.mognet.state.in-db-1", "k", "1")  # same app, another db
        client.save()
        client.close()
    yield where / "dump.rdb"
    shutil.rmtree(where, ignore_errors=True)


def _variant(dump: Path, tmp_path: Path, name: str) -> Path:
    data = bytearray(dump.read_bytes())
    if name == "truncated":
        data = data[: len(data) // 2]
    elif name == "cut_before_checksum":
        data = data[:-9]
    elif name == "corrupt":  # the first key's type byte: a type no RDB version has
        data[_first_key(data)] = 0x3F
    elif name == "not_rdb":
        data = bytearray(b"PNG\x89 certainly not a Redis dump\n" * 100)
    elif name == "empty":
        data = bytearray()
    elif name == "unknown_version":
        data[5:9] = b"0099"
    path = tmp_path / f"{name}.rdb"
    path.write_bytes(bytes(data))
    return path


def _length_size(first: int) -> int:
    """Bytes of an RDB length encoding starting with ``first``."""
    return {0: 1, 1: 2, 2: 5 if first == 0x80 else 9}[first >> 6]


def _first_key(data: bytearray) -> int:
    """Offset of the first key's type byte: after SELECTDB 0 and RESIZEDB."""
    at = data.index(b"\xfe\x00\xfb") + 3
    at += _length_size(data[at])
    return at + _length_size(data[at])


BAD = ["truncated", "cut_before_checksum", "corrupt", "not_rdb", "empty", "unknown_version"]


@pytest.mark.parametrize("name", BAD)
def test_a_bad_dump_is_one_line_and_exit_6(dump: Path, tmp_path: Path, name: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = _variant(dump, tmp_path, name)
    started = time.monotonic()
    with pytest.raises(mognet_lab.BadDump) as raised:
        mognet_lab.from_rdb(path, app="small", progress=False)
    message = str(raised.value)
    assert "\n" not in message and str(path) in message
    if name == "unknown_version":
        assert "99" in message
    for argv in (["scan", str(path), "--app", "small", "--no-progress"],
                 ["report", str(path), "--app", "small", "-o", str(tmp_path / "r.html"),
                  "--no-progress"],
                 ["apps", str(path)]):
        assert main(argv) == EXIT_CODES["bad_dump"] == 6
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("mognet-lab: ")
        assert "Traceback" not in err
    assert time.monotonic() - started < 30  # never a hang


def test_only_the_apps_keys_of_its_database(dump: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mognet_lab.ScanWarning)
        snap = mognet_lab.from_rdb(dump, app="small", progress=False)
        in_db_1 = mognet_lab.from_rdb(dump, app="small", progress=False, db=1)
    assert snap.keys["key"].str.startswith("small.mognet.").all()
    assert len(snap.results) > 0 and (snap.keys["kind"] != "unknown").all()
    assert list(in_db_1.keys["key"]) == ["small.mognet.state.in-db-1"]
    # The stream in db 0 is skipped by the parser, and the snapshot says so.
    assert any("1 keys of the dump are streams" in text for text in snap.warnings)
    assert not any("streams" in text for text in in_db_1.warnings)
    apps = mognet_lab.discover_apps(dump)
    assert set(apps["app"]) == {"small", "other", "small2"}


def test_a_large_dump_is_streamed_in_bounded_memory(dump: Path) -> None:
    size = dump.stat().st_size
    assert size > BIG_STRINGS * BIG_STRING_BYTES  # the blobs are in the file
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mognet_lab.ScanWarning)
            mognet_lab.from_rdb(dump, app="small", progress=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # One entry at a time: a fraction of the file, however many blobs it holds.
    assert peak < size / 3, (peak, size)


def test_an_unknown_app_names_the_apps_in_the_dump(dump: Path) -> None:
    with pytest.raises(mognet_lab.AppNotFound) as raised:
        mognet_lab.from_rdb(dump, app="nope", progress=False)
    assert "'small'" in str(raised.value) and raised.value.known_apps[0] in ("small", "other")


def test_without_rdb_py_the_error_names_the_extra(dump: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rdb", None)  # as if rdb-py were not installed
    with pytest.raises(mognet_lab.MognetLabError) as raised:
        mognet_lab.from_rdb(dump, app="small", progress=False)
    assert isinstance(raised.value, ImportError)
    assert "pip install 'mognet-lab[rdb]'" in str(raised.value)
    assert "Python 3.10" in str(raised.value)


def test_a_missing_file_is_not_taken_for_a_url(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.rdb"
    with pytest.raises(mognet_lab.BadDump):
        mognet_lab.from_rdb(missing, app="small", progress=False)
    # The CLI takes a name that is no file for a URL: an invalid one, a usage error.
    assert main(["scan", str(missing), "--app", "small", "--no-progress"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_limit_stops_early_and_says_so(dump: Path) -> None:
    settings = mognet_lab.ScanSettings(limit=25, batch=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mognet_lab.ScanWarning)
        snap = mognet_lab.from_rdb(dump, app="small", progress=False, settings=settings)
    assert len(snap.keys) == 25 and snap.provenance.keys_read == 25
    assert not snap.complete


def test_a_snapshot_saved_before_memory_was_modelled_loads_as_measured(
        dump: Path, tmp_path: Path) -> None:
    import json

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mognet_lab.ScanWarning)
        snap = mognet_lab.from_rdb(dump, app="small", progress=False)
    saved = snap.save(tmp_path / "s")
    record = json.loads((saved / "provenance.json").read_text())
    assert record["memory_source"] == "rdb_model"
    del record["memory_source"]  # as every snapshot saved before offline snapshots
    (saved / "provenance.json").write_text(json.dumps(record))
    assert mognet_lab.Snapshot.load(saved).provenance.memory_source == "memory_usage"
