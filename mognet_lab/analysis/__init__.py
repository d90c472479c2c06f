"""Pure analyses of a :class:`~mognet_lab.Snapshot`: DataFrames in, DataFrames out.

Every function takes the snapshot first and options keyword-only, measures
time from the scan (``snapshot.provenance.scanned_at``), works on an empty
snapshot and never imports matplotlib or talks to Redis.

- memory: :func:`memory_by` (kind, name, state, node, age, family)
- TTLs: :func:`ttl_buckets`, :func:`expiry_schedule`, :func:`never_expiring`
- values: :func:`compression`, :func:`poorly_compressed`, :func:`exceptions`,
  :func:`largest_values`, :func:`listpack_overflow`, :func:`value_summary`
- activity: :func:`throughput`, :func:`duration_percentiles`, :func:`arrival_rate`
- forecast: :func:`family_bytes`, :func:`forecast`, :func:`what_if`
- health: :func:`anomalies`, :func:`server_pressure`, :func:`findings`,
  :func:`cleanup_plan`
- headline: :func:`overview`, :func:`app_bytes`, :func:`without_ttl`,
  :func:`value_statuses`, :func:`read_errors`

Each analysis runs once per snapshot and options (:mod:`.memo`): every view
asks the same memo, so they show the same numbers.
"""

from __future__ import annotations

from ._common import (
    app_bytes,
    counted_servers,
    format_bytes,
    maxmemory,
    reference_time,
    used_memory,
)
from .activity import arrival_rate, duration_percentiles, throughput
from .anomalies import anomalies, anomaly_summary
from .cleanup import cleanup_plan
from .findings import findings, top_findings
from .forecast import family_bytes, forecast, what_if
from .memory import AGE_BUCKETS, memory_by
from .overview import overview, read_errors, value_statuses
from .pressure import server_pressure
from .ttl import TTL_BUCKETS, expiry_schedule, never_expiring, ttl_buckets, without_ttl
from .values import (
    compression,
    exceptions,
    largest_values,
    listpack_overflow,
    poorly_compressed,
    value_summary,
)

__all__ = [
    "AGE_BUCKETS",
    "TTL_BUCKETS",
    "anomalies",
    "app_bytes",
    "anomaly_summary",
    "arrival_rate",
    "cleanup_plan",
    "compression",
    "counted_servers",
    "duration_percentiles",
    "exceptions",
    "expiry_schedule",
    "family_bytes",
    "findings",
    "forecast",
    "format_bytes",
    "largest_values",
    "listpack_overflow",
    "maxmemory",
    "memory_by",
    "never_expiring",
    "overview",
    "poorly_compressed",
    "read_errors",
    "reference_time",
    "server_pressure",
    "throughput",
    "top_findings",
    "ttl_buckets",
    "used_memory",
    "value_statuses",
    "value_summary",
    "what_if",
    "without_ttl",
]
