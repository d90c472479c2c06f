"""Column lists -> the snapshot's DataFrames, with the schemas of :mod:`.schemas`.

Also derives the per-result columns that
join several keys: children count, value status and the memory of a result's
whole family of keys.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import pandas as pd

from . import schemas
from .format import NOT_READY_NAME, READY_STATES, TIME_FIELDS
from .chunks import ChunkedFrame
from .records import SET_SIZES, Columns, new_frame
from .vector import member_of

__all__ = ["build_frames"]

_FAMILY = (("value", "value_memory_bytes"), ("children", "children_memory_bytes"),
           ("metadata", "metadata_memory_bytes"))


def _chunked(found: Columns | ChunkedFrame, name: str, consume: bool) -> ChunkedFrame:
    if isinstance(found, ChunkedFrame):
        return found
    frame = new_frame(name)
    data = found.release() if consume else {column: list(values)
                                            for column, values in found.data.items()}
    frame.append(data, found.length)
    return frame


def _frame(columns: Mapping[str, Columns | ChunkedFrame], name: str,
           consume: bool) -> pd.DataFrame:
    found = columns.get(name)
    if found is None or not found.length:
        return schemas.empty_frame(name)
    return _chunked(found, name, consume).finish()


def build_frames(columns: Mapping[str, Columns | ChunkedFrame],
                 server_records: Sequence[Mapping[str, Any]],
                 *, consume: bool = False) -> dict[str, pd.DataFrame]:
    """All snapshot frames from the scan's columns and the server records.

    ``columns`` holds, per frame, the scan's typed chunks (a
    :class:`~mognet_lab.chunks.ChunkedFrame`, released as its frame is built)
    or plain :class:`Columns`; ``consume=True`` also empties those.
    """
    frames = {name: _frame(columns, name, consume) for name in ("keys", "values", "children",
                                                                "metadata", "states")}
    frames["server"] = schemas.conform("server", pd.DataFrame(list(server_records))) \
        if server_records else schemas.empty_frame("server")
    sizes = columns.get(SET_SIZES)
    set_sizes = _chunked(sizes, SET_SIZES, consume).finish() if sizes is not None and \
        sizes.length else pd.DataFrame({"result_id": [], "member_count": []})
    frames["results"] = _results(columns.get("results"), frames, set_sizes, consume)
    # SCAN order is arbitrary; a stable order makes snapshots comparable.
    frames["keys"] = frames["keys"].sort_values("key", ignore_index=True)
    frames["results"] = frames["results"].sort_values(["created", "result_id"],
                                                      ignore_index=True, na_position="last")
    return frames


def _results(found: Columns | ChunkedFrame | None, frames: Mapping[str, pd.DataFrame],
             set_sizes: pd.DataFrame, consume: bool) -> pd.DataFrame:
    if found is None or not found.length:
        return schemas.empty_frame("results")
    results = _chunked(found, "results", consume).finish()
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
