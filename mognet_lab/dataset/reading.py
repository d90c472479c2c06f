"""Open a dataset: its frames as Dask DataFrames, one partition per bucket.

Each bucket is a complete small snapshot (whole result families), so part
of a dataset can be brought into memory as a real
:class:`~mognet_lab.Snapshot` (:meth:`Dataset.to_snapshot`, :meth:`Dataset.head`)
for the per-row views, and analyses run bucket by bucket (:mod:`.analysis`).
"""

from __future__ import annotations

import os
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import pandas as pd

from ..errors import MognetLabError
from ..persist import _settings
from ..schemas import FRAME_NAMES
from ..snapshot import Provenance, Snapshot
from .finish import FORMAT, PROVENANCE, bucket_file
from .layout import read_json, read_table, restore

if TYPE_CHECKING:
    import dask.dataframe as dd

__all__ = ["Dataset", "open_dataset", "read_bucket"]

_INSTALL = "Datasets need Dask and pyarrow: pip install 'mognet_lab[dask]'"
_BUCKETED = tuple(name for name in FRAME_NAMES if name != "server")


def _require_dask() -> None:
    try:
        import dask.dataframe  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise MognetLabError(_INSTALL) from exc


def read_bucket(path: str, name: str, specs: dict[str, Any]) -> pd.DataFrame:
    """One bucket of one frame, with the frame's dtypes (a Dask partition)."""
    return restore(read_table(Path(path)), specs)


def _provenance(record: dict[str, Any]) -> Provenance:
    try:
        return Provenance(app=str(record["app"]), url=str(record["url"]),
                          scanned_at=datetime.fromisoformat(record["scanned_at"]),
                          duration_s=float(record["duration_s"]),
                          settings=_settings(record.get("settings")),
                          complete=bool(record["complete"]), keys_read=int(record["keys_read"]),
                          version=str(record["version"]),
                          warnings=tuple(str(w) for w in record.get("warnings") or ()),
                          memory_source=str(record.get("memory_source", "memory_usage")))
    except (KeyError, TypeError, ValueError) as exc:
        raise MognetLabError(f"The dataset's {PROVENANCE} lacks or garbles {exc}: the "
                             "dataset is damaged.") from exc


class Dataset:
    """A scan written to Parquet: frames as Dask DataFrames, one partition per bucket.

    ``results``, ``values``, ``keys``, ``children``, ``metadata`` and ``states``
    are ``dask.dataframe.DataFrame`` with the dtypes of the in-memory frames;
    ``server`` is a pandas DataFrame (one row per node).
    """

    def __init__(self, path: Path, record: dict[str, Any]) -> None:
        self.path, self.record = path, record
        self.provenance = _provenance(record)
        self.buckets = int(record["buckets"])

    def specs(self, name: str) -> dict[str, Any]:
        """Each column's dtype as saved (see :mod:`.layout`)."""
        return dict(self.record["frames"][name]["columns"])

    def files(self, name: str) -> list[str]:
        """The Parquet file of each bucket of frame ``name``, in bucket order."""
        return [str(bucket_file(self.path, name, b)) for b in range(self.buckets)]

    def frame(self, name: str) -> dd.DataFrame | pd.DataFrame:
        """Frame ``name``: Dask for the bucketed frames, pandas for ``server``."""
        if name == "server":
            return self.server
        if name not in _BUCKETED:
            raise MognetLabError(f"No frame {name!r} in a dataset: one of "
                                 f"{', '.join(FRAME_NAMES)}.")
        return self._dask(name)

    def _dask(self, name: str) -> dd.DataFrame:
        import dask.dataframe as dd
        import pyarrow.parquet as pq

        specs, files = self.specs(name), self.files(name)
        meta = restore(pq.read_schema(files[0]).empty_table().to_pandas(), specs)
        # One partition per bucket file; the saved dtypes (categories, JSON cells) restored.
        return dd.read_parquet(files, split_row_groups=False).map_partitions(
            restore, specs, meta=meta)

    results = property(lambda self: self._dask("results"))
    values = property(lambda self: self._dask("values"))
    keys = property(lambda self: self._dask("keys"))
    children = property(lambda self: self._dask("children"))
    metadata = property(lambda self: self._dask("metadata"))
    states = property(lambda self: self._dask("states"))

    @cached_property
    def server(self) -> pd.DataFrame:
        """One row per node, as a snapshot's ``server`` frame."""
        return restore(read_table(self.path / "frames" / "server.parquet"), self.specs("server"))

    def to_snapshot(self, buckets: Iterable[int] | None = None) -> Snapshot:
        """The chosen buckets (default: all) in memory as a :class:`~mognet_lab.Snapshot`.

        A bucket holds whole result families: a snapshot of some buckets is a
        consistent sample of the app's results (about ``len(buckets) / buckets``
        of them), every per-row view works on it.
        """
        chosen = list(range(self.buckets)) if buckets is None else list(buckets)
        bad = [b for b in chosen if not isinstance(b, int) or not 0 <= b < self.buckets]
        if bad:
            raise MognetLabError(f"No bucket {bad[0]!r} in this dataset: buckets are 0 to "
                                 f"{self.buckets - 1}.")
        frames = {name: _concat([read_bucket(self.files(name)[b], name, self.specs(name))
                                       for b in chosen]) for name in _BUCKETED}
        frames["server"] = self.server
        return Snapshot({name: frames[name] for name in FRAME_NAMES}, self.provenance)

    def head(self, n: int = 1000) -> Snapshot:
        """A snapshot of the first buckets holding at least ``n`` results (all, if fewer)."""
        import pyarrow.parquet as pq

        chosen, total = [], 0
        for bucket, file in enumerate(self.files("results")):
            if total >= n:
                break
            chosen.append(bucket)
            total += pq.ParquetFile(file).metadata.num_rows
        return self.to_snapshot(chosen)

    def _repr_html_(self) -> str:
        from html import escape

        return (f"<p>mognet_lab dataset of <b>{escape(self.provenance.app)}</b> at "
                f"<code>{escape(str(self.path))}</code>: {self.provenance.keys_read} keys "
                f"in {self.buckets} buckets</p>")

    def __repr__(self) -> str:
        return (f"Dataset(app={self.provenance.app!r}, path={str(self.path)!r}, "
                f"keys={self.provenance.keys_read}, buckets={self.buckets})")


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    # Every bucket shares one set of categories: concat keeps the categorical dtypes.
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def open_dataset(path: str | os.PathLike[str]) -> Dataset:
    """Open a dataset written by ``Lab.scan(to=...)``.

    Parameters
    ----------
    path
        The dataset's directory.

    Returns
    -------
    Dataset
        Frames as ``dask.dataframe`` (one partition per bucket), ``server``
        and ``provenance`` as a snapshot's.

    Raises
    ------
    MognetLabError
        ``path`` is not a finished dataset, or Dask/pyarrow is missing.
    """
    _require_dask()
    where = Path(path)
    file = where / PROVENANCE
    if not file.is_file():
        hint = " (its scan is unfinished: scan to it again to resume)" \
            if (where / "manifest.json").is_file() else ""
        raise MognetLabError(f"No finished mognet_lab dataset at {str(where)!r}{hint}.")
    record = read_json(file, "dataset provenance")
    if record.get("format") != FORMAT:
        raise MognetLabError(f"{str(file)!r} does not describe a mognet_lab dataset.")
    return Dataset(where, record)
