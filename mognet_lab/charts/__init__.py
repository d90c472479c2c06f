"""Charts of a Snapshot: each draws on an Axes and returns it.

Every chart takes a :class:`~mognet_lab.Snapshot` (or the DataFrame of the
matching :mod:`mognet_lab.analysis` function) and keyword-only options, draws
on ``ax`` or on a new :class:`matplotlib.figure.Figure` that pyplot never
sees, and returns the Axes. Nothing here calls pyplot or changes rcParams, so
save a chart with ``ax.figure.savefig(path)`` and show it in a notebook with
``ax.figure``.

>>> from mognet_lab import charts
>>> ax = charts.memory_by_kind(snapshot)                 # doctest: +SKIP
>>> ax.figure.savefig("memory_by_kind.png")              # doctest: +SKIP

Importing this module imports matplotlib (not pyplot); ``import mognet_lab``
does not import it at all.
"""

from __future__ import annotations

# Draws a History (many snapshots), not a Snapshot: reachable as charts.memory_over_time,
# outside __all__, the list of the charts of one snapshot.
from .history import memory_over_time  # noqa: F401
from .memory import memory_by_kind, memory_by_task, top_keys
from .pressure import memory_gauge
from .tasks import duration_percentiles, task_throughput
from .ttl import expiry_schedule, ttl_buckets
from .values import compression_histogram, value_sizes

__all__ = [
    "compression_histogram",
    "duration_percentiles",
    "expiry_schedule",
    "memory_by_kind",
    "memory_by_task",
    "memory_gauge",
    "task_throughput",
    "top_keys",
    "ttl_buckets",
    "value_sizes",
]
