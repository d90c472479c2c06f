"""The one place that declares every Snapshot frame's columns and dtypes.

Frames are always built through :func:`empty_frame` / :func:`conform`, so a
frame has the same columns and dtypes whether it holds a million rows or none.
"""

from __future__ import annotations

from typing import Mapping

import pandas as pd

__all__ = ["SCHEMAS", "FRAME_NAMES", "VALUE_STATUSES", "WEIGHT", "WEIGHTED_FRAMES",
           "empty_frame", "conform"]

# Arrow-backed: ids and key names cost their bytes, not a Python object each.
STRING = pd.StringDtype("pyarrow")
CATEGORY = "category"
UTC_TIME = "datetime64[ns, UTC]"
TIMEDELTA = "timedelta64[ns]"
INT = "Int64"
FLOAT = "float64"
BOOL = "boolean"

# value_status of a result: what its /value key tells about the final value.
VALUE_STATUSES = ("present", "not_ready", "lost", "none", "unreadable")
# How many keys of the app each row stands for: 1.0 after a full scan; after a
# sampled one, the keys of its kind the walk counted over those it read
# (mognet_lab.analysis.estimate scales totals up with it).
WEIGHT = "weight"

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
    WEIGHT: FLOAT,
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
    "readable": BOOL,
    "ttl_s": FLOAT,
    "memory_bytes": INT,
    "error": STRING,
    WEIGHT: FLOAT,
}

KEYS: Mapping[str, object] = {
    "key": STRING,
    "kind": CATEGORY,
    "result_id": STRING,
    "redis_type": CATEGORY,
    "memory_bytes": INT,
    "ttl_s": FLOAT,
    "error": STRING,
    WEIGHT: FLOAT,
}

CHILDREN: Mapping[str, object] = {
    "parent_id": STRING,
    "child_id": STRING,
    "error": STRING,
    WEIGHT: FLOAT,
}

# Metadata fields are flattened into further columns after these (mognet_lab.fields).
METADATA: Mapping[str, object] = {
    "result_id": STRING,
    "field_count": INT,
    "ttl_s": FLOAT,
    "memory_bytes": INT,
    "error": STRING,
    # Fields not given a column of their own (names that do not recur), as JSON.
    "other_fields": STRING,
    WEIGHT: FLOAT,
}

STATES: Mapping[str, object] = {
    "request_id": STRING,
    "field_count": INT,
    "fields": STRING,
    "ttl_s": FLOAT,
    "memory_bytes": INT,
    "error": STRING,
    WEIGHT: FLOAT,
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
WEIGHTED_FRAMES = tuple(name for name in FRAME_NAMES if WEIGHT in SCHEMAS[name])


def empty_frame(name: str) -> pd.DataFrame:
    """A frame with no rows and exactly the declared columns and dtypes."""
    schema = SCHEMAS[name]
    return pd.DataFrame({col: pd.Series([], dtype=dtype) for col, dtype in schema.items()})


def conform(name: str, frame: pd.DataFrame | dict[str, list]) -> pd.DataFrame:
    """Give ``frame`` (a DataFrame or column lists) the declared columns and dtypes.

    Declared columns come first, in declared order; any others follow as they are.
    """
    schema = SCHEMAS[name]
    if isinstance(frame, pd.DataFrame):
        # Rows are positions here: any index the caller's frame had is dropped.
        frame = frame.reset_index(drop=True)
    columns = frame if isinstance(frame, dict) else {c: frame[c] for c in frame.columns}
    length = len(next(iter(columns.values()))) if columns else 0
    out = {col: as_dtype(columns[col] if col in columns else [None] * length, dtype)
           for col, dtype in schema.items()}
    extras = {col: _extra(values) for col, values in columns.items() if col not in schema}
    return pd.DataFrame({**out, **extras})


def as_dtype(values: object, dtype: object) -> pd.Series:
    """One column as ``dtype``; unparseable timestamps become NaT (callers check)."""
    if dtype == UTC_TIME:
        return pd.Series(pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601"),
                         dtype=UTC_TIME)
    if dtype == TIMEDELTA:
        return pd.Series(pd.to_timedelta(values, errors="coerce"), dtype=TIMEDELTA)
    if dtype == FLOAT:
        return pd.Series(pd.to_numeric(pd.Series(values, dtype=object), errors="coerce"),
                         dtype=FLOAT)
    if dtype == CATEGORY:
        return pd.Series(pd.Categorical(pd.Series(values, dtype=object)))
    return pd.Series(pd.array(values, dtype=dtype) if isinstance(values, list) else values,
                     dtype=dtype)


def _extra(values: object) -> pd.Series:
    return values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
