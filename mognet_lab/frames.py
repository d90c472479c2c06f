"""Column lists -> the snapshot's DataFrames, with the schemas of :mod:`.schemas`.

Also derives the per-result columns that
join several keys: children count, value status and the memory of a result's
whole family of keys.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import schemas
from .format import NOT_READY_NAME, READY_STATES, TIME_FIELDS
from .chunks import ChunkedFrame
from .fields import FieldCells
from .records import SET_SIZES, Columns, new_frame
from .vector import arrow_of, member_of, positions_in, sum_by_position

__all__ = ["build_frames"]

_FAMILY = (("value", "value_memory_bytes"), ("children", "children_memory_bytes"),
           ("metadata", "metadata_memory_bytes"))


_ORDER = ("keys", "values", "children", "metadata", "states", "server", "results")


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
                 *, consume: bool = False, metadata_fields: FieldCells | None = None,
                 max_metadata_columns: int = 100) -> dict[str, pd.DataFrame]:
    """All snapshot frames from the scan's columns and the server records.

    ``metadata_fields`` holds the metadata hashes' fields, laid out as at most
    ``max_metadata_columns`` columns plus ``other_fields`` (see :mod:`.fields`).
    ``columns`` holds, per frame, the scan's typed chunks (a
    :class:`~mognet_lab.chunks.ChunkedFrame`, released as its frame is built)
    or plain :class:`Columns`; ``consume=True`` also empties those.
    """
    frames = {name: _frame(columns, name, consume) for name in ("keys", "values", "children",
                                                                "metadata", "states")}
    if metadata_fields is not None:
        frames["metadata"] = metadata_fields.lay_out(frames["metadata"],
                                                     max_columns=max_metadata_columns)
    frames["server"] = schemas.conform("server", pd.DataFrame(list(server_records))) \
        if server_records else schemas.empty_frame("server")
    sizes = columns.get(SET_SIZES)
    set_sizes = _chunked(sizes, SET_SIZES, consume).finish() if sizes is not None and \
        sizes.length else pd.DataFrame({"result_id": [], "member_count": []})
    frames["results"] = _results(columns.get("results"), frames, set_sizes, consume)
    # SCAN order is arbitrary; a stable order makes snapshots comparable.
    # Popped first: each unsorted frame is freed column by column as it is sorted.
    frames["keys"] = _sorted(frames.pop("keys"), ["key"])
    frames["results"] = _sorted(frames.pop("results"), ["created", "result_id"])
    for name in schemas.WEIGHTED_FRAMES:  # every row one key; a sampled scan reweighs
        frames[name][schemas.WEIGHT] = 1.0
    return {name: frames[name] for name in _ORDER}


def _sorted(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """``frame.sort_values(by, na_position="last", ignore_index=True)``, one column at a
    time, so that a large frame is never held twice."""
    table = pa.table({name: _arrow_column(frame[name]) for name in by})
    order = pc.sort_indices(table, sort_keys=[(name, "ascending") for name in by]).to_numpy()
    columns = {name: frame[name] for name in frame.columns}
    del frame
    for name in list(columns):
        columns[name] = columns[name].take(order).reset_index(drop=True)
    return pd.DataFrame(columns, copy=False)


def _arrow_column(column: pd.Series) -> pa.ChunkedArray | pa.Array:
    """A sort key in Arrow; missing timestamps sort last (as pandas' na_position="last")."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        stamps = column.array.asi8.copy()
        stamps[column.isna().to_numpy()] = np.iinfo(np.int64).max
        return pa.array(stamps)
    return arrow_of(column)


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
    results["children_count"] = _sum_onto(ids, set_sizes["result_id"], set_sizes["member_count"])
    results["has_metadata"] = member_of(ids, frames["metadata"]["result_id"]).astype("boolean")
    results["value_status"] = _value_status(results, frames["values"])
    keys, total = frames["keys"], results["memory_bytes"].fillna(0)
    owners = positions_in(keys["result_id"], ids)  # once for every kind
    memory = keys["memory_bytes"].fillna(0).to_numpy(dtype=np.int64)
    kinds = keys["kind"].to_numpy(dtype=object)
    for kind, column in _FAMILY:
        of_kind = kinds == kind
        summed = sum_by_position(owners[of_kind], memory[of_kind], len(ids))
        results[column] = pd.Series(summed, index=ids.index, dtype="Int64")
        total = total + results[column]
    results["total_memory_bytes"] = total.astype("Int64")
    return results


def _sum_onto(ids: pd.Series, owners: pd.Series, amounts: pd.Series) -> pd.Series:
    """Per result, the sum of ``amounts`` whose owner is that result (0 if none)."""
    summed = sum_by_position(positions_in(owners, ids), amounts, len(ids))
    return pd.Series(summed, index=ids.index, dtype="Int64")


def _value_status(results: pd.DataFrame, values: pd.DataFrame) -> pd.Categorical:
    """present / not_ready / unreadable where a /value key exists, else lost / none.

    ``unreadable``: a value Mognet itself could not decode (see ``values.readable``).
    """
    status = np.full(len(values), "present", dtype=object)
    status[(values["exception_name"].astype(object) == NOT_READY_NAME).to_numpy()] = "not_ready"
    status[~values["readable"].fillna(False).to_numpy(dtype=bool)] = "unreadable"
    where = positions_in(results["result_id"], values["result_id"])
    found = np.full(len(where), None, dtype=object)
    found[where >= 0] = status[where[where >= 0]]
    ready = results["state"].astype(object).isin(READY_STATES).to_numpy()
    missing = where < 0
    found[missing & ready] = "lost"
    found[missing & ~ready] = "none"
    return pd.Categorical(found, categories=schemas.VALUE_STATUSES)
