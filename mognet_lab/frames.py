"""Column lists -> the snapshot's DataFrames, with the schemas of :mod:`.schemas`.

Also parses timestamps (vectorised) and derives the per-result columns that
join several keys: children count, value status and the memory of a result's
whole family of keys.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import pandas as pd

from . import schemas
from .format import NOT_READY_NAME, READY_STATES, TIME_FIELDS
from .records import SET_SIZES, Columns
from .vector import member_of

__all__ = ["build_frames"]

_FAMILY = (("value", "value_memory_bytes"), ("children", "children_memory_bytes"),
           ("metadata", "metadata_memory_bytes"))


def _data(found: Columns, consume: bool) -> dict[str, list[Any]]:
    return found.release() if consume else found.data


def _frame(columns: Mapping[str, Columns], name: str, consume: bool) -> pd.DataFrame:
    found = columns.get(name)
    if found is None or not found.length:
        return schemas.empty_frame(name)
    return schemas.conform(name, _data(found, consume))


def build_frames(columns: Mapping[str, Columns], server_records: Sequence[Mapping[str, Any]],
                 *, consume: bool = False) -> dict[str, pd.DataFrame]:
    """All snapshot frames from the scan's columns and the server records.

    ``consume=True`` empties each :class:`Columns` once its frame is built, so
    a large scan's lists do not stay alive next to the DataFrames.
    """
    frames = {name: _frame(columns, name, consume) for name in ("keys", "values", "children",
                                                                "metadata", "states")}
    frames["server"] = schemas.conform("server", pd.DataFrame(list(server_records))) \
        if server_records else schemas.empty_frame("server")
    sizes = columns.get(SET_SIZES)
    set_sizes = pd.DataFrame(_data(sizes, consume) if sizes else
                             {"result_id": [], "member_count": []})
    frames["results"] = _results(columns.get("results"), frames, set_sizes, consume)
    # SCAN order is arbitrary; a stable order makes snapshots comparable.
    frames["keys"] = frames["keys"].sort_values("key", ignore_index=True)
    frames["results"] = frames["results"].sort_values(["created", "result_id"],
                                                      ignore_index=True, na_position="last")
    return frames


def _results(found: Columns | None, frames: Mapping[str, pd.DataFrame],
             set_sizes: pd.DataFrame, consume: bool) -> pd.DataFrame:
    if found is None or not found.length:
        return schemas.empty_frame("results")
    raw = _data(found, consume)
    results = schemas.conform("results", raw)
    _note_bad_timestamps(results, raw)
    del raw
    ids = results["result_id"]
    results["queue_time"] = results["started"] - results["created"]
    results["duration"] = results["finished"] - results["started"]
    retries = (results["number_of_starts"] - results["number_of_stops"]).clip(lower=0)
    results["unexpected_retries"] = retries.astype("Int64")
    counts = set_sizes.groupby("result_id")["member_count"].sum() if len(set_sizes) else None
    results["children_count"] = _lookup(ids, counts, fill=0)
    results["has_metadata"] = member_of(ids, frames["metadata"]["result_id"]).astype("boolean")
    results["value_status"] = _value_status(results, frames["values"])
    keys, total = frames["keys"], results["memory_bytes"].fillna(0)
    for kind, column in _FAMILY:
        of_kind = keys[keys["kind"] == kind]
        memory = of_kind.groupby("result_id", observed=True)["memory_bytes"].sum()
        results[column] = _lookup(ids, memory, fill=0)
        total = total + results[column]
    results["total_memory_bytes"] = total.astype("Int64")
    return results


def _note_bad_timestamps(results: pd.DataFrame, raw: Mapping[str, list[Any]]) -> None:
    """Timestamps pandas could not parse become NaT: say so in ``error``."""
    for name in TIME_FIELDS:
        given = pd.Series(raw.get(name, [None] * len(results)), dtype=object).notna()
        bad = given & results[name].isna()
        if bad.any():
            note = f"field {name!r} is not an ISO-8601 timestamp"
            error = results.loc[bad, "error"]
            results.loc[bad, "error"] = error.where(error.isna(), error + "; " + note).fillna(note)


def _lookup(ids: pd.Series, table: pd.Series | None, *, fill: int) -> pd.Series:
    if table is None or table.empty:
        return pd.Series(fill, index=ids.index, dtype="Int64")
    return ids.map(table).fillna(fill).astype("Int64")


def _value_status(results: pd.DataFrame, values: pd.DataFrame) -> pd.Categorical:
    """present / not_ready / unreadable where a /value key exists, else lost / none.

    ``unreadable``: a value Mognet itself could not decode (see ``values.readable``).
    """
    by_id = values.drop_duplicates("result_id").set_index("result_id")
    status = pd.Series("present", index=by_id.index, dtype=object)
    status[(by_id["exception_name"].astype(object) == NOT_READY_NAME).to_numpy()] = "not_ready"
    status[~by_id["readable"].fillna(False).to_numpy(dtype=bool)] = "unreadable"
    found = results["result_id"].map(status).astype(object)
    ready = results["state"].astype(object).isin(READY_STATES)
    missing = found.isna()
    found[missing & ready] = "lost"
    found[missing & ~ready] = "none"
    return pd.Categorical(found, categories=schemas.VALUE_STATUSES)
