"""findings(): every finding fires on its fault with its numbers, and none on a healthy app."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pandas as pd
import pytest
import redis

import mognet_lab
from anomaly_snapshots import MiB, Keyspace, healthy, healthy_server, uid
from mognet_lab.analysis._common import format_bytes
from mognet_lab.analysis.anomalies import format_age
from mognet_lab.analysis.findings import ADVICE, SEVERITIES, findings, top_findings
from mognet_lab.analysis.forecast import forecast
from mognet_lab.analysis.pressure import ISSUE_ADVICE
from mognet_lab.analysis.values import listpack_overflow
from mognet_lab.format import EXCEPTION_INFO_TYPE, NOT_READY_NAME

Change = Callable[[Keyspace], object]


def _server(**changes: Any) -> Change:
    def change(space: Keyspace) -> None:
        space.server = [healthy_server(**changes)]
    return change


def _no_ttl(space: Keyspace) -> None:
    space.result("SUCCESS", ttl=None, memory=1000)
    space.metadata(space.result("SUCCESS"), ttl=None, memory=120)


def _placeholders(space: Keyspace) -> None:
    space.result("REVOKED", value="placeholder", value_memory=400)
    space.result("RUNNING", age=timedelta(hours=9), value="placeholder", value_memory=200)
    space.value(uid(900), placeholder=True, ttl=None, memory=100)


def _stuck(space: Keyspace) -> None:
    space.result("RUNNING", age=timedelta(days=2), value=None)
    space.result("SUSPENDED", age=timedelta(hours=9), value=None)


def _orphans(space: Keyspace) -> None:
    space.value(uid(900), ttl=None, memory=250)
    space.metadata(uid(901), memory=120)


def _lost(space: Keyspace) -> None:
    space.result("SUCCESS", value=None, age=timedelta(days=9), memory=340)
    space.result("SUCCESS", value=None, age=timedelta(days=2), memory=340)


def _children(space: Keyspace) -> None:
    space.children(space.result("SUCCESS"), [uid(1), uid(950), uid(951)])


def _finished_state(space: Keyspace) -> None:
    space.state(space.result("REVOKED"), memory=130)


def _poor(space: Keyspace) -> None:
    space.value(space.result("SUCCESS", value=None), stored=5000, raw=5200, memory=5300)


def _listpack(space: Keyspace) -> None:
    for _ in range(3):
        space.value(space.result("SUCCESS", value=None), stored=100, raw=300, memory=2000,
                    encoding="hashtable")


def _large_exception(space: Keyspace) -> None:
    space.result("FAILURE", value="failure", value_memory=40000)


def _forecast(space: Keyspace) -> None:
    for minutes in range(100):
        space.result("SUCCESS", age=timedelta(minutes=minutes), value_memory=400_000)
    space.server = [healthy_server(used_memory=700 * MiB)]


# code, change, severity, keys, bytes, texts in `measured`
FIRES: list[tuple[str, Change, str, int | None, int | None, list[str]]] = [
    ("no_maxmemory", _server(maxmemory=0), "warning", None, 100 * MiB,
     ["maxmemory is 0", "100.0 MiB in use"]),
    ("memory_near_max", _server(used_memory=1000 * MiB), "critical", None, 1000 * MiB,
     ["1000.0 MiB used of maxmemory 1.0 GiB (98%)", "headroom 24.0 MiB"]),
    ("memory_near_max", _server(used_memory=800 * MiB), "warning", None, 800 * MiB, ["(78%)"]),
    ("noeviction_policy", _server(maxmemory_policy="noeviction"), "warning", None, None,
     ["noeviction"]),
    ("unevictable_no_ttl", lambda s: s.result("SUCCESS", ttl=None, memory=1000), "warning",
     None, 1000, ["volatile-lru", "1 key of this app (1000 B"]),
    ("evictions", _server(evicted_keys=42), "warning", None, None, ["42 keys evicted"]),
    ("fragmentation", _server(mem_fragmentation_ratio=1.8, used_memory=512 * MiB), "warning",
     None, int(512 * MiB * 0.8), ["ratio 1.80", "409.6 MiB more"]),
    ("swapping", _server(mem_fragmentation_ratio=0.7, used_memory=512 * MiB), "critical",
     None, 512 * MiB, ["ratio 0.70 < 1"]),
    ("clients_near_max", _server(connected_clients=8500), "warning", None, None,
     ["8500 clients connected of maxclients 10000 (85%)"]),
    ("timeout_zero", _server(timeout=0), "warning", None, None, ["timeout is 0"]),
    ("no_ttl", _no_ttl, "warning", 2, 1120,
     ["2 keys (1.1 KiB, ", "of the app) have no TTL: 1 metadata, 1 result"]),
    ("placeholder_no_ttl", _placeholders, "warning", 3, 700,
     ["3 placeholder values (700 B) have no TTL", "1 REVOKED", "1 without result hash",
      "1 RUNNING for more than 6h"]),
    ("stuck_tasks", _stuck, "warning", 2, 600,
     ["2 results (", "1 RUNNING", "1 SUSPENDED", "stuck for more than 6h",
      "the oldest for 2d", "worker-1 (2)", "hold 600 B"]),
    ("orphan_keys", _orphans, "warning", 2, 370,
     ["2 keys (370 B) outlive their result hash", "1 /metadata, 1 /value",
      "1 of them without TTL"]),
    ("orphan_keys", lambda s: s.metadata(uid(901), memory=120), "info", 1, 120,
     ["1 key (120 B) outlives", "0 of them without TTL"]),
    ("unexpected_retries", lambda s: s.result("FAILURE", starts=3, stops=1), "warning", 1, 500,
     ["1 result started without a matching stop 2 times", "tasks.work (1)"]),
    ("unreadable_keys", lambda s: s.result("SUCCESS", error="bad field", memory=310), "warning",
     1, 310, ["1 key (310 B) could not be fully read", "bad field"]),
    ("value_lost", _lost, "info", 2, 680,
     ["2 finished results (2 SUCCESS) have no /value key", "hold 680 B",
      "1 of them finished less than 7 days"]),
    ("children_missing", _children, "info", 2, 0,
     ["2 children listed in the /children sets of 1 result have no result hash"]),
    ("finished_state", _finished_state, "info", 1, 130,
     ["1 state hash (130 B) belongs to finished results (1 REVOKED)", "0 of them without TTL"]),
    ("unknown_keys", lambda s: s.unknown("cache", memory=96), "info", 1, 96,
     ["1 key (96 B)", "'shop.mognet.cache'", "1 of them without TTL"]),
    ("poor_compression", _poor, "info", 1, 5000,
     ["1 gzipped value of 1.0 KiB or more", "4.9 KiB stored for 5.1 KiB raw",
      "gzip saves only 200 B"]),
    ("large_exceptions", _large_exception, "info", 1, 40000,
     ["1 stored exception of 16.0 KiB or more (39.1 KiB in all", "builtins:ValueError"]),
    ("server_unknown", _server(timeout=None, unknown="CONFIG refused: no"), "info", None, None,
     ["1 check without an answer (timeout)", "CONFIG refused: no"]),
    # App "shop.mognet" writes shop.mognet.mognet.result.*, under app "shop"'s prefix.
    ("nested_app", lambda s: [s.unknown(f"mognet.result.{uid(951)}", memory=300),
                              s.unknown(f"mognet.result.{uid(951)}/value", memory=200)],
     "warning", 2, 500, ["app 'shop.mognet' keeps 2 keys (500 B", "under 'shop.mognet.'",
                         "unknown keys of 'shop'"]),
]


@pytest.mark.parametrize(("code", "change", "severity", "keys", "size", "texts"), FIRES,
                         ids=[f"{case[0]}-{case[2]}" for case in FIRES])
def test_finding_fires(code: str, change: Change, severity: str, keys: int | None,
                       size: int | None, texts: list[str]) -> None:
    space = healthy()
    change(space)
    table = findings(space.snapshot())
    row = table[table["code"] == code]
    assert len(row) == 1, table[["code", "measured"]].to_string()
    found = row.iloc[0]
    assert found["severity"] == severity
    assert (pd.isna(found["keys"]) if keys is None else found["keys"] == keys)
    assert (pd.isna(found["bytes"]) if size is None else found["bytes"] == size)
    for text in texts:
        assert text in found["measured"], found["measured"]
    assert found["advice"] and found["title"]


def _allkeys_without_ttl(space: Keyspace) -> None:
    _no_ttl(space)
    _server(maxmemory_policy="allkeys-lru")(space)


# Near misses: the fault's neighbour that must not count.
QUIET: list[tuple[str, Change]] = [
    ("memory_near_max", _server(used_memory=700 * MiB)),
    ("unevictable_no_ttl", _allkeys_without_ttl),
    ("fragmentation", _server(mem_fragmentation_ratio=5.0, used_memory=2 * MiB)),
    ("swapping", _server(mem_fragmentation_ratio=0.7, used_memory=2 * MiB)),
    ("clients_near_max", _server(connected_clients=7000)),
    ("placeholder_no_ttl", lambda s: s.result("RUNNING", age=timedelta(hours=2),
                                              value="placeholder")),
    ("no_ttl", _placeholders),  # placeholders are their own finding
    ("stuck_tasks", lambda s: s.result("RUNNING", age=timedelta(hours=5), value=None)),
    ("unexpected_retries", lambda s: s.result("RUNNING", starts=1, stops=0)),
    ("value_lost", lambda s: s.result("PENDING", value=None)),
    ("poor_compression", lambda s: s.value(s.result("SUCCESS", value=None), stored=900,
                                           raw=900)),
    ("poor_compression", lambda s: s.value(s.result("SUCCESS", value=None), stored=5000,
                                           raw=20000)),
    ("listpack_overflow", lambda s: s.value(s.result("SUCCESS", value=None), stored=100,
                                            memory=300, encoding="hashtable")),
    ("large_exceptions", lambda s: s.result("FAILURE", value="failure", value_memory=4000)),
    ("maxmemory_forecast", lambda s: s.result("SUCCESS", value_memory=400_000)),
    # Unknown keys that merely mention "mognet", and an app whose name only starts alike.
    ("nested_app", lambda s: [s.unknown("mognet.cache"), s.unknown("mognetx.result.1"),
                              s.unknown(f"other.mognet.result.{uid(953)}x")]),
]


@pytest.mark.parametrize(("code", "change"), QUIET, ids=[case[0] for case in QUIET])
def test_finding_stays_quiet_on_a_near_miss(code: str, change: Change) -> None:
    space = healthy()
    change(space)
    assert code not in set(findings(space.snapshot())["code"])


@pytest.mark.parametrize("running", [True, False])
def test_healthy_keyspace_has_no_findings(running: bool) -> None:
    table = findings(healthy(running=running).snapshot())
    assert table.empty
    assert list(table.columns) == ["severity", "code", "title", "measured", "keys", "bytes",
                                   "advice"]
    assert list(table["severity"].cat.categories) == list(SEVERITIES)
    assert table["severity"].cat.ordered
    assert top_findings(healthy(running=running).snapshot()).empty


def test_listpack_overflow_states_its_estimate() -> None:
    space = healthy()
    _listpack(space)
    snapshot = space.snapshot()
    extra = int(listpack_overflow(snapshot)["extra_bytes_estimate"].sum())
    row = findings(snapshot).set_index("code").loc["listpack_overflow"]
    assert (row["severity"], row["keys"], row["bytes"]) == ("info", 3, extra)
    assert "3 values exceed hash-max-listpack-value=64 B" in row["measured"]
    assert f"about {format_bytes(extra)}" in row["measured"]


def test_forecast_to_maxmemory_states_rate_headroom_and_time() -> None:
    space = healthy()
    _forecast(space)
    snapshot = space.snapshot()
    expected = forecast(snapshot).iloc[0]
    row = findings(snapshot).set_index("code").loc["maxmemory_forecast"]
    assert row["severity"] in ("warning", "critical")
    assert f"at {expected['rate_per_s']:.3g} results/s" in row["measured"]
    assert f"only {format_bytes(expected['headroom_bytes'])}" in row["measured"]
    assert f"full in about {format_age(expected['time_to_maxmemory'])}" in row["measured"]


def test_incomplete_scan_is_a_finding_and_skips_missing_key_checks() -> None:
    space = healthy()
    _orphans(space)
    _placeholders(space)
    table = findings(space.snapshot(complete=False)).set_index("code")
    assert "orphan_keys" not in table.index
    # The placeholder whose result was not read is left out: its result may well exist.
    assert table.loc["placeholder_no_ttl", "keys"] == 2
    assert "without result hash" not in table.loc["placeholder_no_ttl", "measured"]
    row = table.loc["scan_incomplete"]
    assert row["severity"] == "info" and row["keys"] == len(space.snapshot().keys)
    assert "value_without_result" in row["measured"]


def test_sorted_by_severity_then_bytes() -> None:
    space = healthy()
    for change in (_no_ttl, _stuck, _orphans, _lost, _server(timeout=0, used_memory=1000 * MiB)):
        change(space)
    table = findings(space.snapshot())
    ranks = [SEVERITIES.index(s) for s in table["severity"].astype(str)]
    assert ranks == sorted(ranks, reverse=True) and table.iloc[0]["code"] == "memory_near_max"
    for _, group in table.groupby("severity", observed=True):
        sizes = group["bytes"].fillna(-1).tolist()
        assert sizes == sorted(sizes, reverse=True)
    assert list(top_findings(space.snapshot(), n=2)["code"]) == list(table["code"][:2])


def test_min_bytes_drops_small_findings_but_keeps_settings() -> None:
    space = healthy()
    _no_ttl(space)
    _server(timeout=0)(space)
    codes = set(findings(space.snapshot(), min_bytes=10_000)["code"])
    assert "no_ttl" not in codes and "timeout_zero" in codes


def test_every_code_has_advice() -> None:
    codes = {case[0] for case in FIRES} | {"maxmemory_forecast", "listpack_overflow",
                                           "scan_incomplete"}
    assert codes <= set(ADVICE) | set(ISSUE_ADVICE)


# --- end to end: a hand-written Mognet keyspace in a real Redis ----------------------------

def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _write_result(client: redis.Redis, app: str, state: str, *, ago: timedelta,
                  starts: int = 1, stops: int = 1, ttl: int | None = 21 * 86400) -> str:
    rid = str(uuid.uuid4())
    created = datetime.now(timezone.utc) - ago
    ready = state in ("SUCCESS", "FAILURE", "REVOKED", "INVALID")
    finished = created + timedelta(seconds=5) if ready else None
    fields: dict[str, Any] = {
        "id": rid, "name": "tasks.work", "state": state, "number_of_starts": starts,
        "number_of_stops": stops, "parent_id": None, "created": _iso(created),
        "started": _iso(created), "finished": _iso(finished), "node_id": "worker-7",
        "request_kwargs_repr": "x=1"}
    key = f"{app}.mognet.result.{rid}"
    client.hset(key, mapping={name: json.dumps(value) for name, value in fields.items()})
    if ttl is not None:
        client.expire(key, ttl)
    return rid


def _write_value(client: redis.Redis, app: str, rid: str, *, placeholder: bool = False,
                 ttl: int | None = 7 * 86400) -> None:
    payload: dict[str, Any]
    if placeholder:
        payload = {"value_type": EXCEPTION_INFO_TYPE,
                   "raw_value": {"name": NOT_READY_NAME, "message": "not ready",
                                 "traceback": "", "raw_data": "", "raw_data_encoding": "base64"}}
    else:
        payload = {"value_type": "builtins:int", "raw_value": 42}
    key = f"{app}.mognet.result.{rid}/value"
    client.hset(key, mapping={"contents": gzip.compress(json.dumps(payload).encode()),
                              "encoding": json.dumps("gzip"),
                              "content_type": json.dumps("application/json")})
    if ttl is not None:
        client.expire(key, ttl)


def test_findings_on_a_faulty_keyspace_in_redis(redis_url: str, app_name: str,
                                                client: redis.Redis) -> None:
    app = app_name
    for _ in range(3):  # healthy background
        _write_value(client, app, _write_result(client, app, "SUCCESS", ago=timedelta(hours=1)))
    stuck = _write_result(client, app, "RUNNING", ago=timedelta(days=2), stops=0)
    _write_value(client, app, stuck, placeholder=True, ttl=None)
    revoked = _write_result(client, app, "REVOKED", ago=timedelta(hours=3))
    _write_value(client, app, revoked, placeholder=True, ttl=None)
    client.hset(f"{app}.mognet.state.{revoked}", "step", json.dumps(3))
    client.expire(f"{app}.mognet.state.{revoked}", 7200)
    _write_value(client, app, str(uuid.uuid4()), ttl=None)  # its result is gone
    _write_result(client, app, "SUCCESS", ago=timedelta(hours=2), ttl=None)  # no value, no TTL
    _write_value(client, app, _write_result(client, app, "FAILURE", ago=timedelta(hours=1),
                                            starts=3, stops=1))
    parent = _write_result(client, app, "SUCCESS", ago=timedelta(hours=1))
    _write_value(client, app, parent)
    client.sadd(f"{app}.mognet.result.{parent}/children", uuid.uuid4().bytes)
    client.set(f"{app}.mognet.something-else", b"x" * 100)
    client.set(f"{app}.mognet.result.{uuid.uuid4()}", b"not a hash")

    with mognet_lab.connect(redis_url, app=app) as lab:
        table = findings(lab.scan(progress=False))

    codes = set(table["code"])
    expected = {"stuck_tasks", "placeholder_no_ttl", "no_ttl", "orphan_keys", "finished_state",
                "value_lost", "unexpected_retries", "children_missing", "unknown_keys",
                "unreadable_keys"}
    assert expected <= codes, table[["code", "measured"]].to_string()
    # The session's redis-server runs with Redis' defaults, which the seed advises against.
    assert {"no_maxmemory", "noeviction_policy", "timeout_zero"} <= codes
    by_code = table.set_index("code")
    assert by_code.loc["stuck_tasks", "keys"] == 1
    assert by_code.loc["placeholder_no_ttl", "keys"] == 2
    assert "1 REVOKED" in by_code.loc["placeholder_no_ttl", "measured"]
    assert by_code.loc["unexpected_retries", "keys"] == 1
    assert table["measured"].str.len().gt(0).all() and table["advice"].notna().all()
