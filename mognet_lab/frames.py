"""Records -> the snapshot's DataFrames, with the schemas of :mod:`.schemas`.

Also derives the per-result columns that join several keys: children count,
value status and the memory of a result's whole family of keys.
"""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from . import schemas
from .decode import NOT_READY_NAME, READY_STATES
from .records import SET_SIZES, Rows

__all__ = ["build_frames"]

_FAMILY = (("value", "value_memory_bytes"), ("children", "children_memory_bytes"),
           ("metadata", "metadata_memory_bytes"))


def _frame(rows: Rows, name: str) -> pd.DataFrame:
    columns = rows.frames.get(name)
    if not columns:
        return schemas.empty_frame(name)
    return schemas.conform(name, pd.DataFrame(columns))


def build_frames(rows: Rows, server_records: list[Mapping[str, Any]]) -> dict[str, pd.DataFrame]:
    """All snapshot frames from the scan's rows and the server records."""
    frames = {name: _frame(rows, name) for name in ("keys", "values", "children", "metadata",
                                                    "states")}
    frames["server"] = schemas.conform("server", pd.DataFrame(list(server_records))) \
        if server_records else schemas.empty_frame("server")
    set_sizes = pd.DataFrame(rows.frames.get(SET_SIZES, {"result_id": [], "member_count": []}))
    frames["results"] = _results(_frame(rows, "results"), frames, set_sizes)
    # SCAN order is arbitrary; a stable order makes snapshots comparable.
    frames["keys"] = frames["keys"].sort_values("key", ignore_index=True)
    frames["results"] = frames["results"].sort_values(["created", "result_id"],
                                                      ignore_index=True, na_position="last")
    return frames


def _results(results: pd.DataFrame, frames: Mapping[str, pd.DataFrame],
             set_sizes: pd.DataFrame) -> pd.DataFrame:
    ids = results["result_id"]
    results["queue_time"] = results["started"] - results["created"]
    results["duration"] = results["finished"] - results["started"]
    retries = (results["number_of_starts"] - results["number_of_stops"]).clip(lower=0)
    results["unexpected_retries"] = retries.astype("Int64")
    counts = set_sizes.groupby("result_id")["member_count"].sum() if len(set_sizes) else None
    results["children_count"] = _lookup(ids, counts, fill=0)
    keys = frames["keys"]
    results["has_metadata"] = ids.isin(frames["metadata"]["result_id"]).astype("boolean")
    results["value_status"] = _value_status(results, frames["values"])
    total = results["memory_bytes"].fillna(0)
    for kind, column in _FAMILY:
        of_kind = keys[keys["kind"] == kind]
        memory = of_kind.groupby("result_id", observed=True)["memory_bytes"].sum()
        results[column] = _lookup(ids, memory, fill=0)
        total = total + results[column]
    results["total_memory_bytes"] = total.astype("Int64")
    return schemas.conform("results", results)


def _lookup(ids: pd.Series, table: pd.Series | None, *, fill: int) -> pd.Series:
    if table is None or table.empty:
        return pd.Series(fill, index=ids.index, dtype="Int64")
    return ids.map(table).fillna(fill).astype("Int64")


def _value_status(results: pd.DataFrame, values: pd.DataFrame) -> pd.Series:
    """present / not_ready / unreadable where a /value key exists, else lost / none."""
    by_id = values.drop_duplicates("result_id").set_index("result_id")
    status = pd.Series("present", index=by_id.index, dtype=object)
    status[by_id["exception_name"].astype(object) == NOT_READY_NAME] = "not_ready"
    status[by_id["value_type"].isna().to_numpy()] = "unreadable"
    found = results["result_id"].map(status)
    ready = results["state"].astype(object).isin(READY_STATES)
    missing = found.isna()
    found[missing & ready] = "lost"
    found[missing & ~ready] = "none"
    return pd.Categorical(found, categories=schemas.VALUE_STATUSES)
