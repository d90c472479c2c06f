"""Where a dataset keeps its files, its manifest, and how rows are routed to buckets.

Layout of a dataset directory::

    manifest.json              the scan so far: parts written, SCAN cursors, settings
    raw/part-NNNNN/<frame>.parquet
                               one scan part's rows, not yet joined into families,
                               one row group per bucket (column ``bucket``)
    raw/part-NNNNN/fields.parquet
                               the part's metadata fields, one row per field
    frames/<frame>/part-BBBBB.parquet
                               the finished frames, one file per bucket
    frames/server.parquet      one row per node
    provenance.json            as a saved snapshot's, plus each column's dtype

A bucket holds whole result families: every row is routed by its owner's id
(the result id; a state's request id; an unknown key's own name), so each
bucket, read alone, is a complete small snapshot.
"""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import MognetLabError
from ..persist import _column_specs, _restore, _storable, _string_dtype

__all__ = [
    "BUCKET",
    "MANIFEST",
    "OWNERS",
    "buckets_of",
    "read_json",
    "read_table",
    "restore",
    "storable",
    "write_table",
    "write_json",
]

MANIFEST = "manifest.json"
BUCKET = "bucket"
# The column naming each frame's owner: rows of one owner share a bucket.
OWNERS = {"results": "result_id", "values": "result_id", "metadata": "result_id",
          "children": "parent_id", "states": "request_id", "_set_sizes": "result_id",
          "keys": "result_id"}


def buckets_of(owners: pd.Series, buckets: int, fallback: pd.Series | None = None
               ) -> np.ndarray:
    """The bucket of each row: a stable hash (CRC-32) of its owner, else of ``fallback``."""
    names = owners.astype(object).tolist()
    if fallback is not None:
        spare = fallback.astype(object).tolist()
        names = [name if isinstance(name, str) and name else spare[i]
                 for i, name in enumerate(names)]
    return np.fromiter((zlib.crc32(str(name or "").encode("utf-8", "surrogatepass")) % buckets
                        for name in names), dtype=np.int32, count=len(names))


def write_json(path: Path, record: dict[str, Any]) -> None:
    """Write ``record`` so that a reader sees the old file or the new one, never half."""
    scratch = path.with_name(f".{path.name}.tmp")
    scratch.write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
    os.replace(scratch, path)


def read_json(path: Path, what: str) -> dict[str, Any]:
    """A JSON object written by :func:`write_json`; a clear error when damaged."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise MognetLabError(f"Cannot read {str(path)!r} ({exc}): the {what} is "
                             "missing or damaged.") from exc
    if not isinstance(record, dict):
        raise MognetLabError(f"{str(path)!r} does not hold a {what}.")
    return record


def storable(name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``frame`` as Parquet can hold it (objects as JSON text) and each column's dtype."""
    specs = _column_specs(name, frame)
    for column, spec in specs.items():
        dtype = frame[column].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            spec["values"] = [str(value) for value in dtype.categories]
    return _storable(frame, specs), specs


def restore(frame: pd.DataFrame, specs: dict[str, Any]) -> pd.DataFrame:
    """The frame :func:`storable` was given, dtypes (and categories, when listed) intact."""
    out = {}
    for column in frame.columns:
        spec, values = specs.get(column), frame[column]
        if spec is None or _restored(values, spec):
            out[column] = values
        elif spec.get("kind") == "category" and "values" in spec:
            out[column] = pd.Series(pd.Categorical(
                values.astype(object),
                categories=pd.Index(spec["values"], dtype=spec.get("categories", object)),
                ordered=spec.get("ordered", False)), index=frame.index)
        else:
            out[column] = _restore(values, spec)
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _restored(column: pd.Series, spec: dict[str, Any]) -> bool:
    """Whether Parquet's own pandas metadata already gave ``column`` its dtype (most do:
    converting again would copy every column of every bucket)."""
    kind, dtype = spec.get("kind"), column.dtype
    if kind == "dtype":
        return str(dtype) == spec.get("name")
    if kind == "string":
        return dtype == _string_dtype(spec)
    if kind == "category" and isinstance(dtype, pd.CategoricalDtype) and "values" in spec:
        return bool(dtype.ordered) == spec.get("ordered", False) and \
            str(dtype.categories.dtype) == spec.get("categories") and \
            dtype.categories.tolist() == spec["values"]
    return False


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame made by :func:`storable` as one Parquet file (on the calling thread)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False, nthreads=1), path)


def read_table(path: Path, *, row_group: int | None = None) -> pd.DataFrame:
    """One Parquet file as pandas; with ``row_group``, only that row group.

    Read on the calling thread: Arrow's reader threads would each keep a
    malloc arena of their own, which a bounded-memory scan cannot afford.
    """
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
        table = file.read(use_threads=False) if row_group is None else \
            file.read_row_group(row_group, use_threads=False)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds on a bad file
        raise MognetLabError(f"Cannot read {str(path)!r} ({exc}): the dataset is "
                             "damaged.") from exc
    return table.to_pandas(use_threads=False)
