"""Offline snapshots: a Mognet app's keys read from an RDB dump, no Redis involved.

:mod:`.dump` streams the file (``rdb-py``), :mod:`.batches` turns its entries
into the reader's batches, :mod:`.memory_model` models ``memory_bytes`` and
:mod:`.scan` runs the pipeline. The public entry point is
:func:`mognet_lab.from_rdb`.
"""

from __future__ import annotations

from .dump import looks_like_dump
from .memory_model import MemoryModel, Thresholds
from .scan import dump_apps, snapshot_from_dump

__all__ = ["MemoryModel", "Thresholds", "dump_apps", "looks_like_dump", "snapshot_from_dump"]
