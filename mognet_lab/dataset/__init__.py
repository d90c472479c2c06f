"""Scans as Parquet datasets, analysed with Dask, past one machine's memory.

``Lab.scan(to=DIR)`` writes a scan's rows to bucketed Parquet parts as they
are read (:mod:`.writer`, :mod:`.parts`), then finishes each bucket into the
snapshot's frames (:mod:`.finish`). :func:`open_dataset` gives them back as
Dask DataFrames (:mod:`.reading`); the main analyses accept the dataset and
run bucket by bucket as Dask computations (:mod:`.analysis`).
Writing needs pyarrow; opening and analysing also Dask (``mognet_lab[dask]``).
"""

from __future__ import annotations

from .live import CannotResume
from .reading import Dataset, open_dataset
from .scan import scan_to_dataset
from .writer import BatchSource, write_dataset

__all__ = ["BatchSource", "CannotResume", "Dataset", "open_dataset", "scan_to_dataset",
           "write_dataset"]
