"""Phase one of a dataset scan: a part's raw rows, bucketed, to Parquet (pure but for files).

A part is what one :class:`~mognet_lab.records.Collector` gathered (about
``part_keys`` keys). Its frames are written as they are before the per-result
columns are derived (those join a whole family, which may span parts): one
file per frame, rows sorted by bucket (stable: scan order within a bucket) and
one row group per bucket, so that the finish phase reads one bucket of every
part by row-group filter.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..fields import FieldCells
from ..records import Collector
from .layout import BUCKET, OWNERS, buckets_of, storable

__all__ = ["FIELDS", "ROW", "write_part"]

FIELDS = "fields"  # the metadata fields of a part, one row per (row, name, value)
ROW = "_row"  # a metadata row's position in its part: what the fields refer to


def write_part(collector: Collector, folder: Path, buckets: int) -> dict[str, Any]:
    """Write ``collector``'s rows under ``folder``; the part's entry for the manifest.

    The collector is flushed and emptied. The entry lists each frame's rows and
    column dtypes (with the categories seen) and the count of each metadata
    field name, in first-seen order.
    """
    collector.flush()
    folder.mkdir(parents=True, exist_ok=True)
    entry: dict[str, Any] = {"name": folder.name, "keys": collector.keys_read, "frames": {}}
    for name in list(collector.frames):
        frame = collector.frames.pop(name).finish()
        if name == "metadata":
            frame[ROW] = np.arange(len(frame), dtype=np.int64)
        fallback = frame["key"] if name == "keys" else None
        frame[BUCKET] = buckets_of(frame[OWNERS[name]], buckets, fallback)
        entry["frames"][name] = _write_bucketed(frame, folder / f"{name}.parquet", name)
    entry["fields"] = _write_fields(collector.metadata_fields, entry, folder, buckets)
    return entry


def _write_bucketed(frame: pd.DataFrame, path: Path, name: str) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = frame.iloc[np.argsort(frame[BUCKET].to_numpy(), kind="stable")]
    stored, specs = storable(name, frame)
    table = pa.Table.from_pandas(stored, preserve_index=False, nthreads=1)
    buckets = stored[BUCKET].to_numpy()
    edges = np.flatnonzero(np.diff(buckets)) + 1
    groups = []
    with pq.ParquetWriter(path, table.schema) as writer:
        for start, stop in zip([0, *edges], [*edges, len(stored)]):
            if stop > start:
                writer.write_table(table.slice(start, stop - start), row_group_size=stop - start)
                groups.append(int(buckets[start]))
    # The bucket of each row group, in file order: the finish phase reads one directly.
    return {"rows": len(frame), "columns": specs, "groups": groups}


def _write_fields(cells: FieldCells, entry: dict[str, Any], folder: Path,
                  buckets: int) -> list[list[Any]]:
    """The metadata fields as a long frame, bucketed like the metadata rows they belong to."""
    counts = Counter(cells.names)
    metadata_rows = entry["frames"].get("metadata", {}).get("rows", 0)
    if not metadata_rows:
        return []
    owners = pd.read_parquet(folder / "metadata.parquet", columns=[ROW, BUCKET])
    bucket_of_row = np.empty(metadata_rows, dtype=np.int32)
    bucket_of_row[owners[ROW].to_numpy()] = owners[BUCKET].to_numpy()
    rows = np.asarray(cells.rows, dtype=np.int64)
    long = pd.DataFrame({
        ROW: rows, "field": pd.array(cells.names, dtype="string[pyarrow]"),
        "value": pd.array([json.dumps(value, default=str) for value in cells.values],
                          dtype="string[pyarrow]"),
        BUCKET: bucket_of_row[rows] if len(rows) else np.empty(0, dtype=np.int32)})
    cells.rows, cells.names, cells.values = [], [], []
    entry["frames"][FIELDS] = _write_bucketed(long, folder / f"{FIELDS}.parquet", FIELDS)
    return [[name, count] for name, count in counts.items()]
