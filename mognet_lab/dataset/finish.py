"""Phase two of a dataset scan: each bucket's rows of every part -> finished frames.

A bucket holds whole result families, so its frames are built by the code
path of an in-memory scan (:func:`~mognet_lab.frames.build_frames`). What must
agree across buckets is chosen once for all: the categories of each
categorical column and the metadata fields given a column of their own.
Keys SCAN returned twice (or that a resumed scan read again) are dropped
here, the first reading kept, as an in-memory scan keeps the first.
"""

from __future__ import annotations

import gc
import json
from collections import Counter
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import schemas
from ..chunks import ChunkedFrame
from ..fields import FieldCells, wide_names
from ..frames import build_frames
from ..persist import _settings
from ..records import SET_SIZES
from .layout import BUCKET, OWNERS, read_table, restore, storable, write_json, write_table
from .parts import FIELDS, ROW

__all__ = ["PROVENANCE", "bucket_file", "finish_dataset"]

PROVENANCE = "provenance.json"
FORMAT = "mognet_lab.dataset"
_PART = "_part"
_FRAMES = ("results", "values", "keys", "children", "metadata", "states")
_RAW = (*_FRAMES, SET_SIZES)
# Categorical columns derived per result (fixed categories), not read from Redis.
_DERIVED = {("results", "value_status")}


class _Finished(ChunkedFrame):
    """A frame already built (read back from a part): what build_frames takes as chunks."""

    def __init__(self, name: str, frame: pd.DataFrame) -> None:
        super().__init__(name, schema={} if name == SET_SIZES else None)
        self.frame, self.length = frame, len(frame)

    def finish(self) -> pd.DataFrame:
        return self.frame


def bucket_file(target: Path, name: str, bucket: int) -> Path:
    """Where bucket ``bucket`` of the finished frame ``name`` is kept."""
    return target / "frames" / name / f"part-{bucket:05d}.parquet"


def finish_dataset(target: Path, manifest: dict[str, Any],
                   servers: Sequence[Mapping[str, Any]]) -> None:
    """Write every bucket's finished frames, the server frame and ``provenance.json``."""
    parts = manifest["parts"]
    settings = _settings(manifest.get("settings"))
    categories = _global_categories(parts)
    counts: Counter[str] = Counter()
    for part in parts:
        for name, count in part.get("fields", []):
            counts[name] += count
    wide = wide_names(counts, settings.max_metadata_columns)
    entries: dict[str, Any] = {}
    for bucket in range(int(manifest["buckets"])):
        frames = finish_bucket(target, parts, bucket, categories=categories, wide=wide,
                               max_columns=settings.max_metadata_columns)
        for name, frame in frames.items():
            path = bucket_file(target, name, bucket)
            path.parent.mkdir(parents=True, exist_ok=True)
            stored, specs = storable(name, frame)
            write_table(stored, path)
            entry = entries.setdefault(name, {"columns": specs, "rows": 0})
            entry["rows"] += len(frame)
        del frames, stored
        _release()
    server = schemas.conform("server", pd.DataFrame(list(servers))) if servers else \
        schemas.empty_frame("server")
    stored, specs = storable("server", server)
    write_table(stored, target / "frames" / "server.parquet")
    entries["server"] = {"columns": specs, "rows": len(server)}
    write_json(target / PROVENANCE, _provenance(manifest, entries))


def _release() -> None:
    """Hand a finished bucket's memory back before the next one is read: pandas frames
    hold reference cycles, and Arrow's allocator keeps freed blocks for reuse."""
    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()


def _provenance(manifest: dict[str, Any], frames: dict[str, Any]) -> dict[str, Any]:
    return {"format": FORMAT, "format_version": 1, "app": manifest["app"],
            "url": manifest["url"], "scanned_at": manifest["started_at"],
            "duration_s": manifest["duration_s"], "settings": manifest["settings"],
            "complete": bool(manifest.get("complete", True)),
            "keys_read": frames.get("keys", {}).get("rows", 0),
            "version": manifest["version"], "warnings": manifest.get("warnings", []),
            "memory_source": manifest.get("memory_source", "memory_usage"),
            "buckets": manifest["buckets"], "parts": len(manifest["parts"]), "frames": frames}


def _global_categories(parts: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, list[Any]]]:
    """Per frame and categorical column, every category any part saw, as pandas orders them."""
    seen: dict[str, dict[str, dict[Any, None]]] = {}
    for part in parts:
        for name, entry in part["frames"].items():
            for column, spec in entry["columns"].items():
                if spec.get("kind") == "category" and (name, column) not in _DERIVED:
                    seen.setdefault(name, {}).setdefault(column, {}).update(
                        dict.fromkeys(spec.get("values", [])))
    return {name: {column: pd.Categorical(pd.Series(list(values), dtype=object)).categories
                   .astype(object).tolist() for column, values in columns.items()}
            for name, columns in seen.items()}


def finish_bucket(target: Path, parts: Sequence[Mapping[str, Any]], bucket: int, *,
                  categories: Mapping[str, Mapping[str, list[Any]]], wide: list[str],
                  max_columns: int) -> dict[str, pd.DataFrame]:
    """The six frames of one bucket (no server frame), as an in-memory scan builds them."""
    raw = {name: _dedupe(name, _read_bucket(target, parts, name, bucket)) for name in _RAW}
    cells = _field_cells(_read_bucket(target, parts, FIELDS, bucket), raw["metadata"])
    helpers = [BUCKET, _PART, ROW]
    chunks = {name: _Finished(name, frame.drop(columns=[c for c in helpers if c in frame]))
              for name, frame in raw.items() if frame is not None}
    frames = build_frames(chunks, [], consume=True)
    frames.pop("server")
    frames["metadata"] = cells.lay_out(frames["metadata"], max_columns=max_columns, wide=wide)
    for name, columns in categories.items():
        frame = frames.get(name)
        for column, values in columns.items():
            if frame is not None and column in frame.columns:
                frame[column] = pd.Series(pd.Categorical(
                    frame[column].astype(object), categories=pd.Index(values, dtype=object)),
                    index=frame.index)
    return frames


def _read_bucket(target: Path, parts: Sequence[Mapping[str, Any]], name: str,
                 bucket: int) -> pd.DataFrame | None:
    """The bucket's rows of frame ``name`` from every part, in scan order, with ``_part``."""
    found = []
    for number, part in enumerate(parts):
        entry = part["frames"].get(name)
        if entry is None or bucket not in entry["groups"]:
            continue
        path = target / "raw" / part["name"] / f"{name}.parquet"
        frame = restore(read_table(path, row_group=entry["groups"].index(bucket)),
                        entry["columns"])
        if len(frame):
            found.append(frame.assign(**{_PART: np.int32(number)}))
    if not found:
        return None
    return pd.concat(found, ignore_index=True) if len(found) > 1 else found[0]


def _dedupe(name: str, frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """Rows of a key read twice (in two parts) dropped: the first reading stays."""
    if frame is None or frame[_PART].nunique() < 2:
        return frame
    if name == "keys":
        return frame.drop_duplicates("key", keep="first", ignore_index=True)
    owner = frame[OWNERS[name]]
    if name == "children":  # one row per member: keep the members of the first reading
        first = frame.groupby(owner.astype(object), dropna=False)[_PART].transform("min")
        keep = (frame[_PART] == first) | owner.isna()
    else:
        keep = ~owner.astype(object).duplicated(keep="first") | owner.isna()
    return frame[keep.to_numpy(dtype=bool)].reset_index(drop=True)


def _field_cells(fields: pd.DataFrame | None, metadata: pd.DataFrame | None) -> FieldCells:
    """The bucket's metadata fields, pointing at the rows of its metadata frame."""
    cells = FieldCells()
    if fields is None or metadata is None:
        return cells
    position = pd.Series(np.arange(len(metadata)),
                         index=pd.MultiIndex.from_arrays([metadata[_PART], metadata[ROW]]))
    where = pd.MultiIndex.from_arrays([fields[_PART], fields[ROW]])
    rows = position.reindex(where).to_numpy()
    kept = ~np.isnan(rows.astype("float64"))
    cells.rows = rows[kept].astype(np.int64).tolist()
    cells.names = fields["field"].astype(object)[kept].tolist()
    cells.values = [json.loads(text) for text in fields["value"].astype(object)[kept]]
    return cells
