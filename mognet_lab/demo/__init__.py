"""The embedded demo: a realistic Mognet keyspace in a private redis-server.

>>> from mognet_lab import demo
>>> snapshot = demo.demo_snapshot(results=500, progress=False)  # doctest: +SKIP
>>> with demo.Demo() as running:                                 # doctest: +SKIP
...     lab = running.lab                                        # a live, read-only Lab
"""

from __future__ import annotations

from .run import Demo, demo_snapshot
from .workload import Workload, WorkloadSummary, write_workload

__all__ = ["Demo", "Workload", "WorkloadSummary", "demo_snapshot", "write_workload"]
