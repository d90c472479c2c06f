"""Hand-made Snapshots whose analysis answers are known (import freely).

:func:`basic` is a small app whose every number is written out below: three
results of two task names, a value whose result hash is gone, a state key and
an unknown key, with TTLs in chosen buckets and values with chosen sizes.
:func:`empty` has no rows at all and :func:`all_na` one row of NA per frame.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from mognet_lab.format import EXCEPTION_INFO_TYPE, NOT_READY_NAME
from mognet_lab.schemas import FRAME_NAMES
from mognet_lab.snapshot import Snapshot

__all__ = [
    "APP", "T0", "DAY", "HOUR", "R1", "R2", "R3", "R4", "APP_BYTES", "USED_MEMORY",
    "MAXMEMORY", "KIND_BYTES", "basic", "empty", "all_na",
]

APP = "lab"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
HOUR, DAY = 3600.0, 86400.0
R1 = "00000000-0000-4000-8000-000000000001"  # report, SUCCESS, 30 min old
R2 = "00000000-0000-4000-8000-000000000002"  # report, FAILURE, 3 h old
R3 = "00000000-0000-4000-8000-000000000003"  # export, RUNNING for 2 d, placeholder value
R4 = "00000000-0000-4000-8000-000000000004"  # only its /value is left
USED_MEMORY, MAXMEMORY = 28_000, 100_000

# (kind, owner, memory_bytes, ttl_s) of every key of basic().
KEYS: list[tuple[str, str | None, int, float | None]] = [
    ("result", R1, 100, 20 * DAY), ("value", R1, 1000, 6 * DAY), ("metadata", R1, 50, 20 * DAY),
    ("result", R2, 100, 20 * DAY), ("value", R2, 500, 6 * DAY),
    ("result", R3, 200, 19 * DAY), ("value", R3, 300, None), ("children", R3, 80, 19 * DAY),
    ("value", R4, 400, 3 * DAY),
    ("state", "req-1", 40, 1800.0),
    ("unknown", None, 30, None),
]
KIND_BYTES = {"value": 2200, "result": 400, "children": 80, "metadata": 50, "state": 40,
              "unknown": 30}
APP_BYTES = 2800


def _key_name(kind: str, owner: str | None) -> str:
    if kind == "state":
        return f"{APP}.mognet.state.{owner}"
    if kind == "unknown":
        return f"{APP}.mognet.junk"
    return f"{APP}.mognet.result.{owner}" + ("" if kind == "result" else f"/{kind}")


def _keys() -> list[dict[str, Any]]:
    return [{"key": _key_name(kind, owner), "kind": kind,
             "result_id": owner if kind not in ("state", "unknown") else None,
             "redis_type": "set" if kind == "children" else "hash",
             "memory_bytes": size, "ttl_s": ttl} for kind, owner, size, ttl in KEYS]


def _result(rid: str, name: str, state: str, node: str, created: timedelta,
            started: timedelta, finished: timedelta | None, **rest: Any) -> dict[str, Any]:
    """A result row; times are given as "this long before T0"."""
    row = {"result_id": rid, "name": name, "state": state, "node_id": node,
           "created": T0 - created, "started": T0 - started,
           "finished": None if finished is None else T0 - finished,
           "queue_time": created - started,
           "duration": None if finished is None else started - finished,
           "number_of_starts": 1, "number_of_stops": 0 if finished is None else 1,
           "children_count": 0, "has_metadata": False, "value_status": "present",
           "value_memory_bytes": 0, "children_memory_bytes": 0, "metadata_memory_bytes": 0}
    row.update(rest)
    row["total_memory_bytes"] = (row["memory_bytes"] + row["value_memory_bytes"]
                                 + row["children_memory_bytes"] + row["metadata_memory_bytes"])
    return row


def _results() -> list[dict[str, Any]]:
    minutes, hours = (lambda n: timedelta(minutes=n)), (lambda n: timedelta(hours=n))
    return [
        _result(R1, "report", "SUCCESS", "n1", minutes(30), minutes(29), minutes(20),
                memory_bytes=100, value_memory_bytes=1000, metadata_memory_bytes=50,
                has_metadata=True, ttl_s=20 * DAY),
        _result(R2, "report", "FAILURE", "n1", hours(3), hours(2), hours(1),
                memory_bytes=100, value_memory_bytes=500, ttl_s=20 * DAY),
        _result(R3, "export", "RUNNING", "n2", hours(48), hours(47), None,
                memory_bytes=200, value_memory_bytes=300, children_memory_bytes=80,
                children_count=2, value_status="not_ready", ttl_s=19 * DAY),
    ]


def _value(rid: str, value_type: str, encoding: str | None, stored: int, raw: int,
           memory: int, ttl: float | None, redis_encoding: str, **rest: Any) -> dict[str, Any]:
    return {"result_id": rid, "value_type": value_type, "encoding": encoding,
            "content_type": "application/json", "stored_bytes": stored, "raw_bytes": raw,
            "raw_bytes_source": "gzip" if encoding else "plain",
            "compression_ratio": raw / stored, "is_exception": value_type == EXCEPTION_INFO_TYPE,
            "memory_bytes": memory, "ttl_s": ttl, "redis_encoding": redis_encoding, **rest}


def _values() -> list[dict[str, Any]]:
    return [
        _value(R1, "builtins:dict", "gzip", 700, 2100, 1000, 6 * DAY, "hashtable"),
        _value(R2, EXCEPTION_INFO_TYPE, "gzip", 300, 600, 500, 6 * DAY, "hashtable",
               exception_name="builtins:ValueError", exception_message="bad input"),
        _value(R3, EXCEPTION_INFO_TYPE, "gzip", 60, 120, 300, None, "listpack",
               exception_name=NOT_READY_NAME, exception_message=""),
        _value(R4, "builtins:str", None, 200, 200, 400, 3 * DAY, "hashtable"),
    ]


def server(**changes: Any) -> dict[str, Any]:
    """One node with known used_memory and maxmemory (override any column)."""
    row = {"node": "127.0.0.1:6379", "redis_version": "7.2.4", "used_memory": USED_MEMORY,
           "maxmemory": MAXMEMORY, "maxmemory_policy": "volatile-lru",
           "hash_max_listpack_entries": 128, "hash_max_listpack_value": 64}
    return {**row, **changes}


def basic(**server_changes: Any) -> Snapshot:
    """The known app described at the top of this module."""
    return Snapshot.from_frames(
        app=APP, scanned_at=T0, results=_results(), values=_values(), keys=_keys(),
        states=[{"request_id": "req-1", "field_count": 1, "fields": '{"n": 1}',
                 "ttl_s": 1800.0, "memory_bytes": 40}],
        children=[{"parent_id": R3, "child_id": R1}, {"parent_id": R3, "child_id": R2}],
        metadata=[{"result_id": R1, "field_count": 1, "ttl_s": 20 * DAY, "memory_bytes": 50}],
        server=[server(**server_changes)])


def empty() -> Snapshot:
    """No keys, no server facts."""
    return Snapshot.from_frames(app=APP, scanned_at=T0)


def all_na() -> Snapshot:
    """One row of NA in every frame (every column of every schema missing)."""
    first = {"results": "result_id", "values": "result_id", "keys": "key",
             "children": "parent_id", "metadata": "result_id", "states": "request_id",
             "server": "node"}
    frames = {name: [{first[name]: None}] for name in FRAME_NAMES}
    return Snapshot.from_frames(app=APP, scanned_at=T0, **frames)
