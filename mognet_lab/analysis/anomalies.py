"""Keys and results that a healthy Mognet keyspace does not have: one row each.

Pure: reads a :class:`~mognet_lab.Snapshot`'s frames and returns DataFrames;
nothing here talks to Redis. The ``keys`` frame is the list of what exists:
every scanned key has a row there, whatever else could be read of it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable

import pandas as pd

from ..format import READY_STATES
from ..keys import (
    KIND_CHILDREN,
    KIND_METADATA,
    KIND_RESULT,
    KIND_UNKNOWN,
    KIND_STATE,
    KIND_VALUE,
    result_key,
    state_key,
)
from ..snapshot import Snapshot
from ..vector import member_of
from ._common import as_timedelta, format_bytes, reference_time
from .memo import memoized

__all__ = ["ANOMALIES", "NEEDS_COMPLETE_SCAN", "anomalies", "anomaly_summary", "format_age",
           "plural", "unexpected_restarts"]

ANOMALIES = (
    "value_without_result",
    "children_without_result",
    "metadata_without_result",
    "child_missing",
    "value_lost",
    "stuck_running",
    "stuck_suspended",
    "state_of_finished",
    "unexpected_retries",
    "unknown_key",
    "unreadable",
)
# These say a key is *missing*. A scan stopped early by `limit` did not read
# every key, so there a missing key proves nothing: they are skipped.
NEEDS_COMPLETE_SCAN = ("value_without_result", "children_without_result",
                       "metadata_without_result", "child_missing", "value_lost")
ANOMALY_DTYPE = pd.CategoricalDtype(ANOMALIES)
_COLUMNS: dict[str, Any] = {"anomaly": ANOMALY_DTYPE, "key": pd.StringDtype(),
                            "result_id": pd.StringDtype(), "detail": pd.StringDtype(),
                            "bytes": "Int64"}
_SUMMARY: dict[str, Any] = {"anomaly": ANOMALY_DTYPE, "count": "Int64", "bytes": "Int64",
                            "example": pd.StringDtype()}
_Row = dict[str, Any]
_STUCK = {"RUNNING": "stuck_running", "SUSPENDED": "stuck_suspended"}
_SUFFIX = {KIND_VALUE: "/value", KIND_CHILDREN: "/children", KIND_METADATA: "/metadata"}


@memoized
def anomalies(snapshot: Snapshot, *, stuck_after: str | timedelta = "6h") -> pd.DataFrame:
    """Every anomaly of the keyspace, one row per occurrence.

    Parameters
    ----------
    snapshot
        A scanned (or hand-built) snapshot.
    stuck_after
        A RUNNING or SUSPENDED result whose ``started`` (else ``created``) is
        older than this, measured from the scan time, counts as stuck.

    Returns
    -------
    pandas.DataFrame
        ``anomaly`` (categorical, one of :data:`ANOMALIES`), ``key`` (the key
        concerned, NA when there is none), ``result_id``, ``detail`` (text with
        the numbers) and ``bytes`` (memory of the keys involved). When the
        snapshot is incomplete, the anomalies of :data:`NEEDS_COMPLETE_SCAN`
        are skipped and ``attrs["note"]`` says so.
    """
    from .on_dataset import anomalies as on_dataset, is_dataset

    if is_dataset(snapshot):
        return on_dataset(anomalies, snapshot, stuck_after=stuck_after)
    limit = as_timedelta("stuck_after", stuck_after)
    checks: list[Callable[[Snapshot], list[_Row]]] = [
        _orphans, _children_missing, _values_lost, lambda s: _stuck(s, limit),
        _states_of_finished, _unexpected_retries, _unknown_keys, _unreadable]
    skipped = () if snapshot.complete else NEEDS_COMPLETE_SCAN
    # Checks return plain rows: one typed frame at the end is much cheaper than nine.
    rows = [row for check in checks for row in check(snapshot) if row["anomaly"] not in skipped]
    found = _frame(rows)
    _note(found, skipped)
    return found


def anomaly_summary(snapshot: Snapshot, **kwargs: Any) -> pd.DataFrame:
    """Anomalies counted: ``anomaly``, ``count``, ``bytes`` and one ``example`` detail.

    Keyword arguments go to :func:`anomalies`. Rows are sorted by bytes, then
    count, largest first; the example is the occurrence holding most memory.
    """
    found = anomalies(snapshot, **kwargs)
    rows = []
    for code, group in found.groupby("anomaly", observed=True):
        largest = group.loc[group["bytes"].fillna(0).astype("int64").idxmax()]
        rows.append({"anomaly": code, "count": len(group), "bytes": group["bytes"].sum(),
                     "example": largest["detail"]})
    summary = pd.DataFrame(rows, columns=list(_SUMMARY)).astype(_SUMMARY)
    summary = summary.sort_values(["bytes", "count"], ascending=False, ignore_index=True)
    summary.attrs.update(found.attrs)
    return summary


def format_age(age: pd.Timedelta | timedelta | None) -> str:
    """A duration in its two largest units: ``"2d 3h"``, ``"9h 12m"``, ``"40s"``."""
    if age is None or pd.isna(age):
        return "?"
    seconds = int(pd.Timedelta(age).total_seconds())
    units = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
    parts: list[str] = []
    for suffix, size in units:
        if seconds >= size or (suffix == "s" and not parts):
            parts.append(f"{seconds // size}{suffix}")
            seconds %= size
        if len(parts) == 2 or (parts and seconds == 0):
            break
    return " ".join(parts)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``"1 key"``, ``"3 keys"``."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def _frame(rows: list[_Row]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(_COLUMNS)).astype(_COLUMNS)


def _note(found: pd.DataFrame, skipped: tuple[str, ...]) -> None:
    found.attrs["skipped"] = list(skipped)
    if skipped:
        found.attrs["note"] = ("the scan is incomplete (it stopped at its key limit), so a "
                               "key not read is not a key missing: " + ", ".join(skipped)
                               + " were not checked")


def _ttl_text(ttl_s: object) -> str:
    return "no TTL" if pd.isna(ttl_s) else f"TTL {format_age(pd.Timedelta(seconds=ttl_s))}"


def _result_key(snapshot: Snapshot, result_id: str, kind: str = KIND_RESULT) -> str:
    return result_key(snapshot.app, result_id, kind)


def _result_ids(snapshot: Snapshot) -> set[str]:
    """Ids whose result hash exists (readable or not)."""
    keys = snapshot.keys
    listed = keys.loc[keys["kind"] == KIND_RESULT, "result_id"].dropna()
    return set(listed.to_numpy(dtype=object)) | \
        set(snapshot.results["result_id"].dropna().to_numpy(dtype=object))


def _orphans(snapshot: Snapshot) -> list[_Row]:
    keys = snapshot.keys
    family = keys[keys["kind"].isin(list(_SUFFIX)) & keys["result_id"].notna()]
    family = family[~member_of(family["result_id"], _result_ids(snapshot))]
    return [{
        "anomaly": f"{row.kind}_without_result", "key": row.key, "result_id": row.result_id,
        "bytes": row.memory_bytes,
        "detail": f"{_SUFFIX[row.kind]} key of result {row.result_id} has no result hash "
                  f"({format_bytes(row.memory_bytes)}, {_ttl_text(row.ttl_s)})",
    } for row in family.itertuples(index=False)]


def _children_missing(snapshot: Snapshot) -> list[_Row]:
    children = snapshot.children
    listed = children[children["child_id"].notna()]
    missing = listed[~member_of(listed["child_id"], _result_ids(snapshot))]
    # A set member is 16 bytes inside its parent's set, counted with the parent.
    return [{
        "anomaly": "child_missing", "result_id": row.child_id, "bytes": 0,
        "key": _result_key(snapshot, row.parent_id, KIND_CHILDREN),
        "detail": f"child {row.child_id} listed by result {row.parent_id} has no result hash",
    } for row in missing.itertuples(index=False)]


def _values_lost(snapshot: Snapshot) -> list[_Row]:
    results = snapshot.results
    lost = results[results["value_status"] == "lost"]
    at = reference_time(snapshot)
    return [{
        "anomaly": "value_lost", "key": _result_key(snapshot, row.result_id),
        "result_id": row.result_id, "bytes": row.total_memory_bytes,
        "detail": f"{row.state} result has no /value key; finished "
                  f"{format_age(at - row.finished)} before the scan; its keys still hold "
                  f"{format_bytes(row.total_memory_bytes)} ({_ttl_text(row.ttl_s)})",
    } for row in lost.itertuples(index=False)]


def _stuck(snapshot: Snapshot, limit: pd.Timedelta) -> list[_Row]:
    results = snapshot.results
    since = results["started"].fillna(results["created"])
    age = reference_time(snapshot) - since
    chosen = results["state"].isin(list(_STUCK)) & (age > limit).fillna(False)
    stuck = results[chosen].assign(stuck_since=since[chosen], stuck_for=age[chosen])
    return [{
        "anomaly": _STUCK[row.state], "key": _result_key(snapshot, row.result_id),
        "result_id": row.result_id, "bytes": row.total_memory_bytes,
        "detail": f"{row.state} for {format_age(row.stuck_for)} (> {format_age(limit)}) since "
                  f"{row.stuck_since:%Y-%m-%d %H:%M}Z, task {_na(row.name)} on node "
                  f"{_na(row.node_id)}, started {_times(row.number_of_starts)}; holds "
                  f"{format_bytes(row.total_memory_bytes)}",
    } for row in stuck.itertuples(index=False)]


def _na(value: object) -> str:
    return "?" if value is None or pd.isna(value) else str(value)


def _count(value: Any, noun: str) -> str:
    return f"? {noun}s" if value is None or pd.isna(value) else plural(int(value), noun)


def _times(value: object) -> str:
    return _count(value, "time")


def _states_of_finished(snapshot: Snapshot) -> list[_Row]:
    results, states = snapshot.results, snapshot.states
    ready = results[results["state"].isin(list(READY_STATES))].drop_duplicates("result_id")
    state_of = dict(zip(ready["result_id"].astype(object), ready["state"].astype(object)))
    finished = states[member_of(states["request_id"], state_of.keys())]
    return [{
        "anomaly": "state_of_finished", "result_id": row.request_id, "bytes": row.memory_bytes,
        "key": state_key(snapshot.app, row.request_id),
        "detail": f"state hash of a {state_of[row.request_id]} result still holds "
                  f"{_count(row.field_count, 'field')} ({format_bytes(row.memory_bytes)}, "
                  f"{_ttl_text(row.ttl_s)})",
    } for row in finished.itertuples(index=False)]


def _unexpected_retries(snapshot: Snapshot) -> list[_Row]:
    results = snapshot.results
    restarts = unexpected_restarts(results)
    retried = results[(restarts > 0).fillna(False)]
    return [{
        "anomaly": "unexpected_retries", "key": _result_key(snapshot, row.result_id),
        "result_id": row.result_id, "bytes": row.total_memory_bytes,
        "detail": f"{row.state} result started {_times(row.number_of_starts)} but stopped "
                  f"{_times(row.number_of_stops)}: "
                  f"{plural(int(restarts[index]), 'unexpected restart')} "
                  f"(task {_na(row.name)}, last node {_na(row.node_id)})",
    } for index, row in zip(retried.index, retried.itertuples(index=False))]


def unexpected_restarts(results: pd.DataFrame) -> pd.Series:
    """Starts that no stop matched, not counting the run in progress.

    Mognet checks ``starts - stops`` *before* starting a task again, so there
    it counts only earlier runs; in a snapshot a RUNNING result's own run is
    one start without its stop yet, which is no retry at all.
    """
    running = (results["state"] == "RUNNING").fillna(False).astype("int64")
    return (results["unexpected_retries"] - running).clip(lower=0)


def _unknown_keys(snapshot: Snapshot) -> list[_Row]:
    keys = snapshot.keys
    unknown = keys[keys["kind"] == KIND_UNKNOWN]
    return [{
        "anomaly": "unknown_key", "key": row.key, "result_id": pd.NA,
        "bytes": row.memory_bytes,
        "detail": f"{_na(row.redis_type)} key outside Mognet's key names "
                  f"({format_bytes(row.memory_bytes)}, {_ttl_text(row.ttl_s)})",
    } for row in unknown.itertuples(index=False)]


def _unreadable(snapshot: Snapshot) -> list[_Row]:
    """One row per key with an error in any frame, its distinct errors joined."""
    parts = [_errors(snapshot, *source) for source in _ERROR_SOURCES]
    errors = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    if errors.empty:
        return []
    # Several frames may report the same problem of one key: keep each note once.
    notes = errors.assign(error=errors["error"].astype(str).str.split("; ")).explode("error")
    notes = notes.drop_duplicates(["key", "error"])
    grouped = notes.groupby("key", sort=True).agg(
        owner=("owner", "first"), detail=("error", "; ".join), size=("bytes", "max"))
    memory = snapshot.keys.drop_duplicates("key").set_index("key")["memory_bytes"]
    sizes = grouped.index.to_series().map(memory).fillna(grouped["size"])
    return [{"anomaly": "unreadable", "key": key, "result_id": row.owner,
             "bytes": None if pd.isna(size) else size, "detail": row.detail}
            for (key, row), size in zip(grouped.iterrows(), sizes)]


# Frame, key kind (None: the frame has a `key` column), owner column.
_ERROR_SOURCES = (("keys", None, "result_id"), ("results", KIND_RESULT, "result_id"),
                  ("values", KIND_VALUE, "result_id"), ("metadata", KIND_METADATA, "result_id"),
                  ("children", KIND_CHILDREN, "parent_id"), ("states", KIND_STATE, "request_id"))


def _key_of(app: str, kind: str, owner: object) -> str:
    return state_key(app, owner) if kind == KIND_STATE else result_key(app, owner, kind)


def _errors(snapshot: Snapshot, name: str, kind: str | None, owner: str) -> pd.DataFrame:
    frame = snapshot.frame(name)
    bad = frame[frame["error"].notna()]
    keys = bad["key"].astype(object) if kind is None else \
        pd.Series([_key_of(snapshot.app, kind, i) for i in bad[owner]], index=bad.index,
                  dtype=object)
    sizes = bad["memory_bytes"] if "memory_bytes" in bad else pd.Series(pd.NA, index=bad.index)
    return pd.DataFrame({"key": keys, "owner": bad[owner].astype(object),
                         "error": bad["error"].astype(object),
                         "bytes": sizes.astype("Float64")})
