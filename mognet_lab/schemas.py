"""The one place that declares every Snapshot frame's columns and dtypes.

Frames are always built through :func:`empty_frame` / :func:`conform`, so a
frame has the same columns and dtypes whether it holds a million rows or none.
"""

from __future__ import annotations

from typing import Mapping

import pandas as pd

__all__ = ["SCHEMAS", "FRAME_NAMES", "VALUE_STATUSES", "empty_frame", "conform"]

STRING = pd.StringDtype()
CATEGORY = "category"
UTC_TIME = "datetime64[ns, UTC]"
TIMEDELTA = "timedelta64[ns]"
INT = "Int64"
FLOAT = "float64"
BOOL = "boolean"

# value_status of a result: what its /value key tells about the final value.
VALUE_STATUSES = ("present", "not_ready", "lost", "none", "unreadable")

RESULTS: Mapping[str, object] = {
    "result_id": STRING,
    "name": CATEGORY,
    "state": CATEGORY,
    "parent_id": STRING,
    "node_id": CATEGORY,
    "created": UTC_TIME,
    "started": UTC_TIME,
    "finished": UTC_TIME,
    "queue_time": TIMEDELTA,
    "duration": TIMEDELTA,
    "number_of_starts": INT,
    "number_of_stops": INT,
    "unexpected_retries": INT,
    "request_kwargs_repr": STRING,
    "children_count": INT,
    "has_metadata": BOOL,
    "value_status": CATEGORY,
    "ttl_s": FLOAT,
    "memory_bytes": INT,
    "value_memory_bytes": INT,
    "children_memory_bytes": INT,
    "metadata_memory_bytes": INT,
    "total_memory_bytes": INT,
    "extra_fields": STRING,
    "error": STRING,
}

VALUES: Mapping[str, object] = {
    "result_id": STRING,
    "value_type": CATEGORY,
    "encoding": CATEGORY,
    "content_type": CATEGORY,
    "stored_bytes": INT,
    "raw_bytes": INT,
    "raw_bytes_source": CATEGORY,
    "compression_ratio": FLOAT,
    "is_exception": BOOL,
    "exception_name": CATEGORY,
    "exception_message": STRING,
    "redis_encoding": CATEGORY,
    "ttl_s": FLOAT,
    "memory_bytes": INT,
    "error": STRING,
}

KEYS: Mapping[str, object] = {
    "key": STRING,
    "kind": CATEGORY,
    "result_id": STRING,
    "redis_type": CATEGORY,
    "memory_bytes": INT,
    "ttl_s": FLOAT,
    "error": STRING,
}

CHILDREN: Mapping[str, object] = {
    "parent_id": STRING,
    "child_id": STRING,
    "error": STRING,
}

# Metadata fields are flattened into further columns after these.
METADATA: Mapping[str, object] = {
    "result_id": STRING,
    "field_count": INT,
    "ttl_s": FLOAT,
    "memory_bytes": INT,
    "error": STRING,
}

STATES: Mapping[str, object] = {
    "request_id": STRING,
    "field_count": INT,
    "fields": STRING,
    "ttl_s": FLOAT,
    "memory_bytes": INT,
    "error": STRING,
}

SERVER: Mapping[str, object] = {
    "node": STRING,
    "redis_version": STRING,
    "used_memory": INT,
    "used_memory_peak": INT,
    "maxmemory": INT,
    "maxmemory_policy": STRING,
    "mem_fragmentation_ratio": FLOAT,
    "evicted_keys": INT,
    "expired_keys": INT,
    "connected_clients": INT,
    "maxclients": INT,
    "timeout": INT,
    "hash_max_listpack_entries": INT,
    "hash_max_listpack_value": INT,
    "dbsize": INT,
    "unknown": STRING,
}

SCHEMAS: Mapping[str, Mapping[str, object]] = {
    "results": RESULTS,
    "values": VALUES,
    "keys": KEYS,
    "children": CHILDREN,
    "metadata": METADATA,
    "states": STATES,
    "server": SERVER,
}
FRAME_NAMES = tuple(SCHEMAS)


def empty_frame(name: str) -> pd.DataFrame:
    """A frame with no rows and exactly the declared columns and dtypes."""
    schema = SCHEMAS[name]
    return pd.DataFrame({col: pd.Series([], dtype=dtype) for col, dtype in schema.items()})


def conform(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Give ``frame`` the declared dtypes; declared columns first, extras after."""
    schema = SCHEMAS[name]
    out = {}
    for col, dtype in schema.items():
        column = frame[col] if col in frame else pd.Series([None] * len(frame), index=frame.index)
        out[col] = _as_dtype(column, dtype)
    extras = {col: frame[col] for col in frame.columns if col not in schema}
    result = pd.DataFrame({**out, **extras}, index=frame.index)
    return result.reset_index(drop=True)


def _as_dtype(column: pd.Series, dtype: object) -> pd.Series:
    if dtype == UTC_TIME:
        return pd.to_datetime(column, utc=True, errors="coerce", format="ISO8601").astype(UTC_TIME)
    if dtype == TIMEDELTA:
        return pd.to_timedelta(column, errors="coerce")
    if dtype == FLOAT:
        return pd.to_numeric(column, errors="coerce").astype(FLOAT)
    return column.astype(dtype)
