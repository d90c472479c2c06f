"""server_pressure(): one row per check; each check warns on its fault and only there."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from anomaly_snapshots import MiB, Keyspace, healthy, healthy_server
from mognet_lab.analysis.pressure import CHECKS, server_pressure


def _check(name: str, space: Keyspace | None = None, **server: Any) -> pd.Series:
    space = space or healthy()
    space.server = [healthy_server(**server)]
    table = server_pressure(space.snapshot()).set_index("check")
    return table.loc[name]


def test_healthy_server_passes_every_check() -> None:
    table = server_pressure(healthy().snapshot())
    assert list(table.columns) == ["check", "value", "limit", "status", "detail", "issue",
                                   "node", "bytes"]
    assert list(table["check"].astype(str)) == list(CHECKS)
    assert set(table["status"].astype(str)) == {"ok"}
    assert table["issue"].isna().all()


def test_no_maxmemory_warns() -> None:
    row = _check("memory_headroom", maxmemory=0)
    assert (row["status"], row["issue"], row["limit"]) == ("warn", "no_maxmemory", "none")
    assert "100.0 MiB in use" in row["detail"] and row["bytes"] == 100 * MiB


@pytest.mark.parametrize(("used_mib", "status"), [(100, "ok"), (800, "warn"),
                                                  (1000, "critical")])
def test_headroom_by_share_of_maxmemory(used_mib: int, status: str) -> None:
    row = _check("memory_headroom", used_memory=used_mib * MiB)
    assert row["status"] == status
    assert f"of maxmemory 1.0 GiB ({used_mib / 1024:.0%})" in row["detail"]
    assert row["issue"] == "memory_near_max" if status != "ok" else pd.isna(row["issue"])


def test_noeviction_warns() -> None:
    row = _check("maxmemory_policy", maxmemory_policy="noeviction")
    assert (row["status"], row["issue"]) == ("warn", "noeviction_policy")


def test_volatile_policy_reports_keys_without_ttl_as_unreclaimable() -> None:
    space = healthy()
    space.result("SUCCESS", ttl=None, memory=1000)
    space.unknown("junk", memory=24)
    row = _check("maxmemory_policy", space, maxmemory_policy="volatile-ttl")
    assert (row["status"], row["issue"], row["bytes"]) == ("warn", "unevictable_no_ttl", 1024)
    assert "2 keys of this app (1.0 KiB" in row["detail"]
    # The running task's placeholder gets its TTL when the task ends: not counted, but named.
    assert "besides 1 placeholder value" in row["detail"]


def test_volatile_policy_is_ok_when_every_key_has_a_ttl() -> None:
    row = _check("maxmemory_policy", healthy(running=False), maxmemory_policy="volatile-lru")
    assert row["status"] == "ok" and "every key of this app has a TTL" in row["detail"]


def test_allkeys_policy_is_ok_with_a_note() -> None:
    space = healthy()
    space.result("SUCCESS", ttl=None)
    row = _check("maxmemory_policy", space, maxmemory_policy="allkeys-lru")
    assert row["status"] == "ok" and row["detail"].startswith("note:")
    assert "still running or awaited" in row["detail"]


def test_evictions_warn() -> None:
    row = _check("evictions", evicted_keys=42)
    assert (row["status"], row["issue"], row["value"]) == ("warn", "evictions", "42")
    assert "42 keys evicted" in row["detail"]
    assert _check("evictions")["status"] == "ok"


@pytest.mark.parametrize(("ratio", "used_mib", "status", "issue"), [
    (1.8, 512, "warn", "fragmentation"),
    (0.7, 512, "critical", "swapping"),
    (1.2, 512, "ok", None),
    (6.0, 2, "ok", None),  # an almost empty Redis always shows a large ratio
    (0.7, 2, "ok", None),
])
def test_fragmentation(ratio: float, used_mib: int, status: str, issue: str | None) -> None:
    row = _check("fragmentation", mem_fragmentation_ratio=ratio, used_memory=used_mib * MiB)
    assert row["status"] == status
    assert (row["issue"] if not pd.isna(row["issue"]) else None) == issue
    assert f"ratio {ratio:.2f}" in row["detail"]


def test_fragmentation_warning_states_the_wasted_memory() -> None:
    row = _check("fragmentation", mem_fragmentation_ratio=1.8, used_memory=512 * MiB)
    assert row["bytes"] == int(512 * MiB * 0.8) and "409.6 MiB more" in row["detail"]


@pytest.mark.parametrize(("connected", "status"), [(100, "ok"), (8500, "warn"),
                                                   (9900, "critical")])
def test_clients(connected: int, status: str) -> None:
    row = _check("clients", connected_clients=connected)
    assert row["status"] == status
    assert f"of maxclients 10000 ({connected / 10000:.0%})" in row["detail"]


def test_timeout_zero_warns() -> None:
    row = _check("timeout", timeout=0)
    assert (row["status"], row["issue"]) == ("warn", "timeout_zero")
    assert _check("timeout")["status"] == "ok"


def test_listpack_limits_are_reported_with_the_values_over_them() -> None:
    space = healthy()
    space.value(space.result("SUCCESS", value=None), encoding="hashtable")
    row = _check("listpack_limits", space, hash_max_listpack_value=64)
    assert row["status"] == "ok" and row["value"] == "128 entries, 64 B"
    assert "1 of this app's 9 value hashes" in row["detail"]


def test_fields_redis_would_not_give_are_unknown_with_the_reason() -> None:
    reason = "CONFIG refused: unknown command 'CONFIG'"
    space = healthy()
    space.server = [healthy_server(timeout=None, maxmemory_policy=None,
                                   hash_max_listpack_value=None, unknown=reason)]
    table = server_pressure(space.snapshot()).set_index("check")
    unknown = table[table["status"] == "unknown"]
    assert set(unknown.index) == {"timeout", "maxmemory_policy", "listpack_limits"}
    assert unknown["detail"].str.contains(reason, regex=False).all()
    assert "timeout not known" in unknown.loc["timeout", "detail"]
    assert table.loc["memory_headroom", "status"] == "ok"


def test_snapshot_without_server_facts_is_all_unknown() -> None:
    space = healthy()
    space.server = []
    table = server_pressure(space.snapshot())
    assert len(table) == len(CHECKS)
    assert set(table["status"].astype(str)) == {"unknown"}


def test_one_row_per_check_and_node() -> None:
    space = healthy()
    space.server = [healthy_server(node="a:1"), healthy_server(node="b:2", timeout=0)]
    table = server_pressure(space.snapshot())
    assert len(table) == 2 * len(CHECKS)
    warned = table[table["status"] == "warn"]
    assert list(warned["node"]) == ["b:2"] and list(warned["check"].astype(str)) == ["timeout"]
