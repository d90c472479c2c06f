"""Compatibility: write with the real mognet backends, read back with mognet_lab.

The keyspace is written by :func:`mognet_writer.write_scenario` through
Mognet's own ``RedisResultBackend`` / ``RedisStateBackend`` (App.submit,
worker, App.revoke, set_ttl, gzip and plain encodings...). Every column of
every frame is compared with what was written, and every byte count, TTL and
memory figure with what Redis itself answers.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import uuid
from typing import Any

import pandas as pd
import pytest
import redis

import mognet_lab
from mognet_lab.schemas import SCHEMAS
from mognet_writer import (
    EXCEPTION_INFO_TYPE,
    STATE_TTL_S,
    MognetWriter,
    Scenario,
    Written,
    between,
    json_cell,
    na_or,
    near,
    row_mismatches,
    unique_app_name,
    write_scenario,
)

ROLES = (
    "parent", "child0", "child1", "child2", "none_value", "model", "big", "float",
    "failure", "invalid", "pending", "running", "revoked", "revoked_child", "id_only",
    "ttl_parent", "ttl_child", "plain", "plain_failure", "lost",
)
# How long a TTL may have run down between the writes and the scan.
TTL_SLACK_S = 120.0


@pytest.fixture(scope="module")
def scenario(redis_url: str) -> Scenario:
    return asyncio.run(write_scenario(redis_url, unique_app_name("compat_mognet")))


@pytest.fixture(scope="module")
def snap(redis_url: str, scenario: Scenario) -> Any:
    return mognet_lab.connect(redis_url, app=scenario.app).scan(progress=False)


@pytest.fixture(scope="module")
def rclient(redis_url: str, snap: Any) -> redis.Redis:
    """redis-py on the test server, used only after the scan, to read the truth."""
    return redis.Redis.from_url(redis_url)


def _key(scenario: Scenario, result_id: Any, sub: str | None = None) -> str:
    key = f"{scenario.app}.mognet.result.{result_id}"
    return f"{key}/{sub}" if sub else key


def _ttl_check(expected: float | None) -> Any:
    return None if expected is None else between(expected - TTL_SLACK_S, expected)


def _memory(rclient: redis.Redis, key: str) -> int | None:
    return rclient.memory_usage(key)


def _row(frame: pd.DataFrame, column: str, value: str) -> pd.Series:
    rows = frame[frame[column] == value]
    assert len(rows) == 1, f"expected one row with {column}={value!r}, got {len(rows)}"
    return rows.iloc[0]


# -- results -------------------------------------------------------------------
def test_one_results_row_per_result_hash(snap: Any, scenario: Scenario) -> None:
    ids = list(snap.results["result_id"])
    assert sorted(ids) == sorted(str(i) for i in scenario.written)
    assert snap.results["error"].isna().all(), snap.results.loc[snap.results["error"].notna(), ["result_id", "error"]]


def test_results_frame_has_declared_columns(snap: Any) -> None:
    for name in ("results", "values", "keys", "children", "metadata", "states", "server"):
        frame = getattr(snap, name)
        assert list(frame.columns[: len(SCHEMAS[name])]) == list(SCHEMAS[name]), name
    for column in ("created", "started", "finished"):
        assert str(snap.results[column].dt.tz) == "UTC"


def _expected_result_columns(w: Written) -> dict[str, Any]:
    r = w.result
    id_only = r.name is None and r.created is None
    queue_time = r.started - r.created if r.started and r.created else None
    duration = r.finished - r.started if r.finished and r.started else None
    want: dict[str, Any] = {
        "name": r.name,
        "state": r.state.value,
        "parent_id": str(r.parent_id) if r.parent_id else None,
        "node_id": r.node_id,
        "created": r.created,
        "started": r.started,
        "finished": r.finished,
        "queue_time": queue_time,
        "duration": duration,
        "number_of_starts": r.number_of_starts,
        "number_of_stops": r.number_of_stops,
        "unexpected_retries": max(0, r.number_of_starts - r.number_of_stops),
        "request_kwargs_repr": r.request_kwargs_repr,
        "children_count": len(w.children),
        "has_metadata": bool(w.metadata),
        "value_status": w.value_status,
        "ttl_s": _ttl_check(w.result_ttl_s),
        "error": None,
    }
    if id_only:
        # The hash holds only "id": the reader may report the missing fields as
        # NA or as Mognet's model defaults (PENDING, 0 starts, 0 stops).
        for column in ("state", "number_of_starts", "number_of_stops", "unexpected_retries"):
            want[column] = na_or(want[column])
    return want


@pytest.mark.parametrize("role", ROLES)
def test_result_row_matches_what_mognet_wrote(snap: Any, scenario: Scenario, role: str) -> None:
    w = scenario.by_role(role)
    row = _row(snap.results, "result_id", w.id)
    problems = row_mismatches(row, _expected_result_columns(w), label=f"{role}.")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_result_memory_matches_memory_usage(
    snap: Any, scenario: Scenario, rclient: redis.Redis, role: str
) -> None:
    w = scenario.by_role(role)
    row = _row(snap.results, "result_id", w.id)
    parts = {
        "memory_bytes": _memory(rclient, _key(scenario, w.id)),
        "value_memory_bytes": _memory(rclient, _key(scenario, w.id, "value")),
        "children_memory_bytes": _memory(rclient, _key(scenario, w.id, "children")),
        "metadata_memory_bytes": _memory(rclient, _key(scenario, w.id, "metadata")),
    }
    # A key that does not exist uses no memory: NA or 0 are both fair answers.
    want: dict[str, Any] = {col: na_or(0) if mem is None else near(mem) for col, mem in parts.items()}
    want["memory_bytes"] = near(parts["memory_bytes"])
    total = sum(mem or 0 for mem in parts.values())
    want["total_memory_bytes"] = near(total)
    problems = row_mismatches(row, want, label=f"{role}.")
    assert not problems, "\n".join(problems)
    got_parts = [row[col] for col in parts if not pd.isna(row[col])]
    assert row["total_memory_bytes"] == sum(got_parts), "total is not the sum of its parts"


def test_value_status_counts(snap: Any, scenario: Scenario) -> None:
    expected = pd.Series([w.value_status for w in scenario.written.values()]).value_counts()
    got = snap.results["value_status"].astype(str).value_counts()
    assert got.sort_index().to_dict() == expected.sort_index().to_dict()


# -- values --------------------------------------------------------------------
def test_one_values_row_per_value_key(snap: Any, scenario: Scenario, rclient: redis.Redis) -> None:
    with_value = sorted(w.id for w in scenario.written.values()
                        if w.value_status in ("present", "not_ready"))
    assert sorted(snap.values["result_id"]) == with_value
    for rid in with_value:
        assert rclient.exists(_key(scenario, rid, "value"))
    assert snap.values["error"].isna().all()


VALUE_ROLES = tuple(r for r in ROLES if r not in ("pending", "running", "lost"))


@pytest.mark.parametrize("role", VALUE_ROLES)
def test_value_row_matches_stored_value(
    snap: Any, scenario: Scenario, rclient: redis.Redis, role: str
) -> None:
    w = scenario.by_role(role)
    key = _key(scenario, w.id, "value")
    stored = rclient.hgetall(key)
    contents = stored[b"contents"]
    raw = gzip.decompress(contents) if w.encoding == "gzip" else contents
    holder = json.loads(raw)
    # What mognet wrote, decoded independently of mognet_lab.
    assert holder["value_type"] == w.value_type
    assert json.loads(stored[b"encoding"]) == w.encoding
    is_exception = w.value_type == EXCEPTION_INFO_TYPE
    if is_exception:
        assert (holder["raw_value"]["name"], holder["raw_value"]["message"]) == w.exception
    pttl = rclient.pttl(key)
    want = {
        "value_type": w.value_type,
        "encoding": w.encoding,
        "content_type": "application/json",
        "stored_bytes": len(contents),
        "raw_bytes": len(raw),
        "compression_ratio": len(raw) / len(contents),
        "is_exception": is_exception,
        "exception_name": w.exception[0] if w.exception else None,
        "exception_message": w.exception[1] if w.exception else None,
        "redis_encoding": rclient.object("encoding", key).decode(),
        "ttl_s": _ttl_check(w.value_ttl_s),
        "memory_bytes": near(rclient.memory_usage(key)),
        "error": None,
    }
    assert (pttl == -1) == (w.value_ttl_s is None)
    row = _row(snap.values, "result_id", w.id)
    problems = row_mismatches(row, want, label=f"{role}.value.")
    assert not problems, "\n".join(problems)


def test_big_value_is_about_200kb_and_compressed(snap: Any, scenario: Scenario) -> None:
    row = _row(snap.values, "result_id", scenario.by_role("big").id)
    assert row["raw_bytes"] > 190_000
    assert row["compression_ratio"] > 1.5
    assert row["redis_encoding"] == "hashtable"


# -- children ------------------------------------------------------------------
def test_children_edges(snap: Any, scenario: Scenario) -> None:
    expected = sorted((w.id, str(child)) for w in scenario.written.values() for child in w.children)
    got = sorted(zip(snap.children["parent_id"], snap.children["child_id"]))
    assert got == expected
    assert snap.children["error"].isna().all()
    for child in snap.children["child_id"]:
        assert str(uuid.UUID(child)) == child  # canonical text, not raw bytes


# -- metadata ------------------------------------------------------------------
def test_metadata_rows(snap: Any, scenario: Scenario, rclient: redis.Redis) -> None:
    with_metadata = {w.id: w for w in scenario.written.values() if w.metadata}
    assert sorted(snap.metadata["result_id"]) == sorted(with_metadata)
    for rid, w in with_metadata.items():
        key = _key(scenario, rid, "metadata")
        row = _row(snap.metadata, "result_id", rid)
        want: dict[str, Any] = {
            "field_count": len(w.metadata),
            "ttl_s": _ttl_check(w.metadata_ttl_s),
            "memory_bytes": near(rclient.memory_usage(key)),
            "error": None,
        }
        want.update(_flatten(w.metadata))
        problems = row_mismatches(row, want, label=f"{rid}.metadata.")
        assert not problems, "\n".join(problems)


def _flatten(fields: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, dict) and value:
            out.update(_flatten(value, f"{prefix}{name}."))
        elif isinstance(value, (list, dict)):
            # Decoded, or kept as JSON text so the column stays hashable.
            out[f"{prefix}{name}"] = json_cell(value)
        else:
            out[f"{prefix}{name}"] = value
    return out


def test_metadata_columns_are_flattened(snap: Any, scenario: Scenario) -> None:
    row = _row(snap.metadata, "result_id", scenario.by_role("parent").id)
    assert row["user"] == "alice"
    assert row["batch.size"] == 3
    assert json_cell(["a", "b"])(row["batch.tags"]), row["batch.tags"]
    assert row["stage"] == "done" and row["count"] == 3
    assert pd.isna(row["short"])  # a field of another result's metadata


# -- states --------------------------------------------------------------------
def test_state_rows(snap: Any, scenario: Scenario, rclient: redis.Redis) -> None:
    assert sorted(snap.states["request_id"]) == sorted(scenario.states)
    for request_id, fields in scenario.states.items():
        row = _row(snap.states, "request_id", request_id)
        key = f"{scenario.app}.mognet.state.{request_id}"
        assert json.loads(row["fields"]) == fields
        want = {
            "field_count": len(fields),
            "ttl_s": _ttl_check(STATE_TTL_S),
            "memory_bytes": near(rclient.memory_usage(key)),
            "error": None,
        }
        problems = row_mismatches(row, want, label=f"state {request_id}.")
        assert not problems, "\n".join(problems)


# -- keys ----------------------------------------------------------------------
def _kind_of(key: str, app: str) -> str:
    rest = key[len(f"{app}.mognet."):]
    if rest.startswith("state."):
        return "state"
    for sub in ("value", "children", "metadata"):
        if rest.endswith(f"/{sub}"):
            return sub
    return "result"


def test_keys_frame_lists_every_key_of_the_app(
    snap: Any, scenario: Scenario, rclient: redis.Redis
) -> None:
    prefix = f"{scenario.app}.mognet."
    # Other tests share this server and may write keys that are not UTF-8.
    truth = sorted(k.decode() for k in rclient.keys("*") if k.startswith(prefix.encode()))
    assert sorted(snap.keys["key"]) == truth
    expected_kinds = pd.Series([_kind_of(k, scenario.app) for k in truth]).value_counts()
    got_kinds = snap.keys["kind"].astype(str).value_counts()
    assert got_kinds.sort_index().to_dict() == expected_kinds.sort_index().to_dict()
    assert expected_kinds["result"] == len(scenario.written)
    assert expected_kinds["state"] == len(scenario.states)


def test_keys_frame_values_match_redis(snap: Any, scenario: Scenario, rclient: redis.Redis) -> None:
    problems: list[str] = []
    for _, row in snap.keys.iterrows():
        key = row["key"]
        kind = _kind_of(key, scenario.app)
        pttl = rclient.pttl(key)
        want: dict[str, Any] = {
            "kind": kind,
            "redis_type": rclient.type(key).decode(),
            "memory_bytes": near(rclient.memory_usage(key)),
            "ttl_s": None if pttl == -1 else between(pttl / 1000 - TTL_SLACK_S, pttl / 1000 + 5),
            "error": None,
        }
        if kind != "state":
            want["result_id"] = key[len(f"{scenario.app}.mognet.result."):][:36]
        problems += row_mismatches(row, want, label=f"{key}: ")
    assert not problems, "\n".join(problems)


def test_placeholder_values_have_no_ttl(snap: Any, scenario: Scenario) -> None:
    """Mognet 2.0.0 never puts a TTL on the get_or_create placeholder value."""
    for role in ("revoked", "revoked_child", "id_only"):
        key = _key(scenario, scenario.by_role(role).id, "value")
        assert pd.isna(_row(snap.keys, "key", key)["ttl_s"]), role


# -- discovery and server ------------------------------------------------------
def test_discover_apps_counts(redis_url: str, snap: Any, scenario: Scenario) -> None:
    apps = mognet_lab.discover_apps(redis_url)
    row = _row(apps, "app", scenario.app)
    assert row["keys"] == len(snap.keys)
    assert row["results"] == len(scenario.written)


def test_server_row(snap: Any, rclient: redis.Redis) -> None:
    assert len(snap.server) >= 1
    assert snap.server["redis_version"].iloc[0] == rclient.info("server")["redis_version"]


# -- several apps in one server ------------------------------------------------
async def _write_small_app(url: str, app: str, n: int) -> list[str]:
    async with MognetWriter(url, app) as w:
        ids = []
        for i in range(n):
            res = await w.submit(f"{app}.task", i)
            await w.start(res)
            await w.complete(res, {"i": i})
            ids.append(str(res.id))
        await w.set_state(ids[0], "k", i)
    return ids


def test_each_app_sees_only_its_own_keys(redis_url: str, app_name: str) -> None:
    # demo/demo2: a prefix match would mix them. "a[1]*" as a glob also matches "a1".
    names = [f"{app_name}demo", f"{app_name}demo2", f"{app_name}a[1]*", f"{app_name}a1"]
    ids = {name: asyncio.run(_write_small_app(redis_url, name, n))
           for n, name in enumerate(names, start=1)}
    for name in names:
        snap = mognet_lab.connect(redis_url, app=name).scan(progress=False)
        assert sorted(snap.results["result_id"]) == sorted(ids[name]), name
        assert all(k.startswith(f"{name}.mognet.") for k in snap.keys["key"]), name
        assert len(snap.keys) == 2 * len(ids[name]) + 1, name
        assert len(snap.values) == len(ids[name]), name
        assert len(snap.states) == 1, name
    apps = mognet_lab.discover_apps(redis_url)
    for name in names:
        row = _row(apps, "app", name)
        assert (row["keys"], row["results"]) == (2 * len(ids[name]) + 1, len(ids[name])), name


# -- a value Mognet could not read back ---------------------------------------
def test_corrupt_value_is_unreadable_and_the_scan_goes_on(
    redis_url: str, app_name: str, client: redis.Redis
) -> None:
    ids = asyncio.run(_write_small_app(redis_url, app_name, 2))
    # Planted by hand (Mognet never writes this): "gzip" contents that are not gzip.
    client.hset(f"{app_name}.mognet.result.{ids[0]}/value", "contents", b"not gzip at all")
    snap = mognet_lab.connect(redis_url, app=app_name).scan(progress=False)
    status = dict(zip(snap.results["result_id"], snap.results["value_status"].astype(str)))
    assert status == {ids[0]: "unreadable", ids[1]: "present"}
    bad = _row(snap.values, "result_id", ids[0])
    assert not pd.isna(bad["error"])
    assert pd.isna(_row(snap.values, "result_id", ids[1])["error"])
