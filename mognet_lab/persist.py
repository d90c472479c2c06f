"""Save a Snapshot to a directory and load it back, dtypes and provenance intact.

Layout of a saved snapshot (a directory; ``.mognetlab`` is a good suffix)::

    provenance.json     app, censored url, scanned_at (ISO), duration_s, settings,
                        complete, keys_read, version, and each frame's columns
    results.parquet     one Parquet file per frame (values, keys, children, ...)

Parquet alone does not bring every pandas dtype back (categories of ``str``
or ``object``, string storage); ``provenance.json`` records each column's
dtype and loading restores it. Columns of Python objects (the flattened
metadata fields, which mix numbers and text) are stored as JSON text.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import MognetLabError
from .schemas import FRAME_NAMES, WEIGHT, WEIGHTED_FRAMES
from .settings import ScanSettings
from .snapshot import MEMORY_SOURCES, Provenance, Snapshot
from .urls import censor_url

__all__ = ["FORMAT", "FORMAT_VERSION", "PROVENANCE_FILE", "load_snapshot", "save_snapshot"]

FORMAT = "mognet_lab.snapshot"
FORMAT_VERSION = 1
PROVENANCE_FILE = "provenance.json"
_INSTALL = "Saving and loading snapshots needs pyarrow: pip install 'mognet_lab[parquet]'"


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise MognetLabError(_INSTALL) from exc


# -- column dtypes ---------------------------------------------------------------
def _dtype_spec(dtype: Any) -> dict[str, Any]:
    """What it takes to rebuild ``dtype`` after a Parquet round trip."""
    if isinstance(dtype, pd.CategoricalDtype):
        return {"kind": "category", "categories": str(dtype.categories.dtype),
                "ordered": bool(dtype.ordered)}
    if isinstance(dtype, pd.StringDtype):
        return {"kind": "string", "storage": dtype.storage,
                "na": "NA" if getattr(dtype, "na_value", pd.NA) is pd.NA else "nan"}
    if dtype == object:
        return {"kind": "json"}
    return {"kind": "dtype", "name": str(dtype)}


def _string_dtype(spec: dict[str, Any]) -> pd.StringDtype:
    na_value = pd.NA if spec.get("na") == "NA" else float("nan")
    try:
        return pd.StringDtype(spec.get("storage"), na_value=na_value)  # type: ignore[call-arg]
    except TypeError:  # pandas < 2.3 has no na_value
        return pd.StringDtype(spec.get("storage"))


def _restore(column: pd.Series, spec: dict[str, Any]) -> pd.Series:
    kind = spec.get("kind")
    if kind == "json":
        return pd.Series([None if pd.isna(v) else json.loads(v) for v in column],
                         index=column.index, dtype=object, name=column.name)
    if kind == "string":
        return column.astype(_string_dtype(spec))
    if kind == "category":
        as_cat = column.astype("category")
        categories = as_cat.cat.categories.astype(spec["categories"])
        return as_cat.astype(pd.CategoricalDtype(categories, ordered=spec["ordered"]))
    return column.astype(spec["name"])


def _to_json(value: Any) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    return json.dumps(value, default=str, allow_nan=True)


def _storable(frame: pd.DataFrame, specs: dict[str, dict[str, Any]]) -> pd.DataFrame:
    out = frame.copy()
    for column, spec in specs.items():
        if spec["kind"] == "json":
            out[column] = pd.Series([_to_json(v) for v in frame[column].tolist()],
                                    index=frame.index, dtype=object)
    return out.reset_index(drop=True)


def _column_specs(name: str, frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    bad = [c for c in frame.columns if not isinstance(c, str)]
    if bad or frame.columns.duplicated().any():
        raise MognetLabError(f"Frame {name!r} cannot be saved: column names must be unique "
                             f"strings (found {list(frame.columns)!r}).")
    return {c: _dtype_spec(frame[c].dtype) for c in frame.columns}


# -- save --------------------------------------------------------------------------
def _provenance_record(snapshot: Snapshot, frames: dict[str, Any]) -> dict[str, Any]:
    p = snapshot.provenance
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "app": p.app,
            "url": censor_url(p.url), "scanned_at": _iso(p.scanned_at),
            "duration_s": p.duration_s, "settings": dataclasses.asdict(p.settings),
            "complete": p.complete, "keys_read": p.keys_read, "version": p.version,
            "warnings": list(p.warnings), "memory_source": p.memory_source,
            "sample_fraction": p.sample_fraction, "sample_seed": p.sample_seed,
            "population": dict(p.population),
            "saved_at": _iso(datetime.now(timezone.utc)), "frames": frames}


def _memory_source(found: Any) -> str:
    # Snapshots saved before memory could be modelled measured it with MEMORY USAGE.
    return str(found) if found in MEMORY_SOURCES else "memory_usage"


def _iso(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def _write(snapshot: Snapshot, target: Path) -> None:
    frames: dict[str, Any] = {}
    # In the snapshot's own order, so a loaded snapshot iterates its frames alike.
    for name in [n for n in snapshot.frames if n in FRAME_NAMES]:
        frame = snapshot.frames[name]
        specs = _column_specs(name, frame)
        file = f"{name}.parquet"
        _storable(frame, specs).to_parquet(target / file, index=False, engine="pyarrow")
        frames[name] = {"file": file, "rows": len(frame), "columns": specs}
    record = _provenance_record(snapshot, frames)
    (target / PROVENANCE_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")


def _saved_files() -> set[str]:
    return {PROVENANCE_FILE, *(f"{name}.parquet" for name in FRAME_NAMES)}


def _check_target(path: Path, overwrite: bool) -> None:
    if not path.exists():
        return
    if not path.is_dir() or not (path / PROVENANCE_FILE).is_file():
        raise MognetLabError(f"{str(path)!r} exists and is not a saved snapshot: choose "
                             "another path (mognet_lab never deletes other files).")
    if not overwrite:
        raise MognetLabError(f"A snapshot is already saved at {str(path)!r}: pass "
                             "overwrite=True to replace it, or choose another path.")
    foreign = sorted(p.name for p in path.iterdir() if p.name not in _saved_files())
    if foreign:
        raise MognetLabError(f"{str(path)!r} also holds files that are not part of a saved "
                             f"snapshot ({', '.join(foreign[:5])}): not replacing it.")


def save_snapshot(snapshot: Snapshot, path: str | os.PathLike[str], *,
                  overwrite: bool = False) -> Path:
    """Save ``snapshot`` as a directory of Parquet files plus ``provenance.json``.

    Parameters
    ----------
    snapshot
        The snapshot to save.
    path
        The directory to create.
    overwrite
        Replace a snapshot already saved there (never any other directory).

    Returns
    -------
    pathlib.Path
        The directory written.
    """
    _require_pyarrow()
    target = Path(path)
    _check_target(target, overwrite)
    # Written next to the target, then renamed: a failed save leaves no half snapshot.
    scratch = target.parent / f".{target.name}.saving-{uuid.uuid4().hex[:8]}"
    scratch.mkdir(parents=True)
    try:
        _write(snapshot, scratch)
        if target.exists():
            shutil.rmtree(target)
        scratch.rename(target)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return target


# -- load --------------------------------------------------------------------------
def _read_record(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise MognetLabError(f"No saved snapshot at {str(path)!r}: the path does not exist.")
    file = path / PROVENANCE_FILE
    if not path.is_dir() or not file.is_file():
        raise MognetLabError(f"{str(path)!r} is not a saved mognet_lab snapshot (no "
                             f"{PROVENANCE_FILE}): save one with snapshot.save(path).")
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise MognetLabError(f"{str(file)!r} is not valid JSON ({exc}): the saved snapshot "
                             "is damaged.") from exc
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise MognetLabError(f"{str(file)!r} does not describe a saved mognet_lab snapshot.")
    if not isinstance(record.get("format_version"), int) or \
            record["format_version"] > FORMAT_VERSION:
        raise MognetLabError(f"{str(path)!r} was saved in format "
                             f"{record.get('format_version')!r}, newer than this mognet_lab "
                             f"reads ({FORMAT_VERSION}): upgrade mognet_lab.")
    return record


def _read_frame(path: Path, name: str, entry: dict[str, Any]) -> pd.DataFrame:
    file = path / str(entry.get("file", f"{name}.parquet"))
    if not file.is_file():
        raise MognetLabError(f"The saved snapshot at {str(path)!r} lacks {file.name}: "
                             "it is incomplete.")
    try:
        frame = pd.read_parquet(file, engine="pyarrow")
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds on a bad file
        raise MognetLabError(f"Cannot read {str(file)!r} ({exc}): the saved snapshot is "
                             "damaged.") from exc
    specs: dict[str, dict[str, Any]] = entry.get("columns", {})
    return pd.DataFrame({c: _restore(frame[c], specs[c]) if c in specs else frame[c]
                         for c in frame.columns}, index=pd.RangeIndex(len(frame)))


def _settings(saved: Any) -> ScanSettings:
    known = {f.name for f in dataclasses.fields(ScanSettings)}
    try:
        return ScanSettings(**{k: v for k, v in (saved or {}).items() if k in known})
    except (MognetLabError, TypeError):
        return ScanSettings()


def _sampling(record: dict[str, Any]) -> dict[str, Any]:
    """A sampled scan's fraction, seed and population (a snapshot saved before: none)."""
    fraction = record.get("sample_fraction")
    if fraction is None:
        return {}
    population = record.get("population") or {}
    return {"sample_fraction": float(fraction), "sample_seed": int(record["sample_seed"]),
            "population": tuple((str(k), int(n)) for k, n in population.items())}


def _weighted(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Frames saved before sampling existed have no weights: every row is one key."""
    if name in WEIGHTED_FRAMES and WEIGHT not in frame.columns:
        frame[WEIGHT] = 1.0
    return frame


def load_snapshot(path: str | os.PathLike[str]) -> Snapshot:
    """Load a snapshot saved by :func:`save_snapshot`, with its dtypes and provenance.

    Raises
    ------
    MognetLabError
        ``path`` is not a saved snapshot (or is damaged), or pyarrow is missing.
    """
    _require_pyarrow()
    where = Path(path)
    record = _read_record(where)
    entries = record.get("frames", {})
    missing = [name for name in FRAME_NAMES if name not in entries]
    if missing:
        raise MognetLabError(f"The saved snapshot at {str(where)!r} lacks the frames "
                             f"{missing}: it is incomplete.")
    frames = {name: _weighted(name, _read_frame(where, name, entries[name]))
              for name in entries if name in FRAME_NAMES}
    try:
        provenance = Provenance(
            app=str(record["app"]), url=str(record["url"]),
            scanned_at=datetime.fromisoformat(record["scanned_at"]),
            duration_s=float(record["duration_s"]), settings=_settings(record.get("settings")),
            complete=bool(record["complete"]), keys_read=int(record["keys_read"]),
            version=str(record["version"]),
            warnings=tuple(str(w) for w in record.get("warnings") or ()),
            memory_source=_memory_source(record.get("memory_source")),
            **_sampling(record))
    except (KeyError, TypeError, ValueError) as exc:
        raise MognetLabError(f"{PROVENANCE_FILE} at {str(where)!r} lacks or garbles "
                             f"{exc}: the saved snapshot is damaged.") from exc
    return Snapshot(frames, provenance)
