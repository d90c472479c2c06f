"""The report's data sections: server, memory, TTL, values and tasks (pure data).

Each function runs the analyses of its section and returns a
:class:`~.model.Section` of capped tables, facts and charts to draw later.
Charts receive the frames computed here, so nothing is computed twice.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import analysis
from ..display.text import is_missing
from ..schemas import METADATA
from ..snapshot import Snapshot
from .model import Chart, Section, table

__all__ = ["memory_section", "server_section", "tasks_section", "throughput_freq",
           "ttl_section", "values_section"]

# Bars per chart: charts stay readable and small, whatever the keyspace.
CHART_BARS = 10
CHART_KEYS = 15
# Throughput periods, shortest first; the report picks the first giving <= this many.
THROUGHPUT_FREQS = ("1min", "5min", "15min", "1h", "6h", "1D", "7D")
THROUGHPUT_PERIODS = 400
_GZIP_TEXT = {None: "as observed", True: "all gzipped", False: "none gzipped"}
_PRESSURE = ["check", "status", "value", "limit", "detail", "node"]
_WHAT_IF = ["scenario", "rate_per_s", "result_ttl_s", "value_ttl_s", "state_ttl_s", "gzip",
            "steady_state_bytes", "never_expiring_bytes", "total_bytes", "headroom_bytes",
            "time_to_maxmemory"]


def _chart(key: str, title: str, name: str, data: Any, **options: Any) -> Chart:
    """A chart drawn by ``mognet_lab.charts.<name>(data, **options)`` when rendered."""

    def draw() -> Any:
        from .. import charts  # matplotlib loads only when a chart is drawn

        return getattr(charts, name)(data, **options)

    return Chart(key, title, draw)


def server_section(snapshot: Snapshot) -> Section:
    pressure = analysis.server_pressure(snapshot)
    checks = table("server_pressure", "Server checks", pressure, None, _PRESSURE)
    return Section("server", "Server", tables=(checks,))


def memory_section(snapshot: Snapshot, top: int, forecast: pd.DataFrame) -> Section:
    by_kind = analysis.memory_by(snapshot, "kind")
    by_name = analysis.memory_by(snapshot, "name")
    tables = (
        table("memory_by_kind", "By key kind", by_kind, None),
        table("memory_by_task", "By task", by_name, top),
        table("memory_by_state", "By result state", analysis.memory_by(snapshot, "state"), top),
        _largest_results(snapshot, top),
    )
    charts = (
        _chart("memory_by_kind", "Memory by key kind", "memory_by_kind",
               analysis.ttl_buckets(snapshot)),
        _chart("memory_by_task", "Memory by task", "memory_by_task", by_name, top=CHART_BARS),
        _chart("top_keys", "Largest keys", "top_keys", snapshot, n=CHART_KEYS),
        _chart("memory_gauge", "Redis memory", "memory_gauge", forecast),
    )
    return Section("memory", "Memory", tables=tables, charts=charts)


def _largest_results(snapshot: Snapshot, top: int) -> Any:
    """The largest result families, with their task's arguments and metadata."""
    families = analysis.memory_by(snapshot, "family")
    shown = families.head(top).copy()
    ids = shown["result_id"].astype(object)
    results = snapshot.results.drop_duplicates("result_id").set_index("result_id")
    shown["arguments"] = ids.map(results["request_kwargs_repr"].astype(object))
    shown["metadata"] = ids.map(_metadata_text(snapshot, set(ids.dropna())))
    columns = ["result_id", "name", "state", "age", "keys", "bytes", "arguments", "metadata"]
    return table("largest_results", "Largest results (the hash and its value, children "
                 "and metadata keys)", shown, None, columns, total=len(families))


def _metadata_text(snapshot: Snapshot, ids: set[str]) -> pd.Series:
    """``"field=value, ..."`` per result id, for the given ids only."""
    metadata = snapshot.metadata
    fields = [c for c in metadata.columns if c not in METADATA]
    rows = metadata[metadata["result_id"].astype(object).isin(ids)]
    text = {rid: ", ".join(f"{f}={row[f]}" for f in fields if not is_missing(row[f]))
            for rid, row in zip(rows["result_id"].astype(object), rows.to_dict("records"))}
    return pd.Series(text, dtype=object)


def ttl_section(snapshot: Snapshot, top: int) -> Section:
    buckets = analysis.ttl_buckets(snapshot)
    used = buckets[buckets["keys"] > 0]
    tables = (
        table("ttl_buckets", "Keys by remaining TTL", used, None),
        table("never_expiring", "Keys that never expire", analysis.never_expiring(snapshot),
              top),
    )
    charts = (
        _chart("ttl_buckets", "Memory by remaining TTL", "ttl_buckets", buckets),
        _chart("expiry_schedule", "Memory left if nothing new arrived", "expiry_schedule",
               analysis.expiry_schedule(snapshot)),
    )
    return Section("ttl", "TTL", tables=tables, charts=charts)


def values_section(snapshot: Snapshot, top: int) -> Section:
    tables = (
        table("value_summary", "All values", analysis.value_summary(snapshot), None),
        table("compression_by_task", "Compression by task",
              analysis.compression(snapshot, by="name"), top),
        table("poorly_compressed", "Poorly compressed values (ratio < 1.1, >= 1 KiB)",
              analysis.poorly_compressed(snapshot), top),
        table("exceptions", "Stored exceptions", analysis.exceptions(snapshot), top),
        table("largest_values", "Largest values", analysis.largest_values(snapshot, n=top),
              None, total=len(snapshot.values)),
        table("listpack_overflow", "Values too big for a listpack hash",
              analysis.listpack_overflow(snapshot), top),
    )
    charts = (
        _chart("compression_histogram", "Compression ratios", "compression_histogram",
               snapshot),
        _chart("value_sizes", "Value sizes", "value_sizes", snapshot),
    )
    return Section("values", "Values", tables=tables, charts=charts)


def tasks_section(snapshot: Snapshot, top: int, forecast: pd.DataFrame) -> Section:
    durations = analysis.duration_percentiles(snapshot)
    assumptions = forecast["assumptions"].iloc[0] if len(forecast) else None
    scenarios = forecast.assign(gzip=forecast["gzip"].astype(object).map(
        lambda g: _GZIP_TEXT.get(None if g is pd.NA else bool(g))))
    tables = (
        table("duration_percentiles", "Queue and run times by task", durations, top),
        table("what_if", "Forecast and what-if", scenarios, None, _WHAT_IF,
              note=f"Assumptions: {assumptions}" if isinstance(assumptions, str) else None),
    )
    freq = throughput_freq(snapshot)
    charts = (
        _chart("task_throughput", "Task throughput", "task_throughput", snapshot, freq=freq),
        _chart("duration_percentiles", "Run times", "duration_percentiles", durations,
               top=CHART_BARS),
    )
    return Section("tasks", "Tasks", tables=tables, charts=charts)


def throughput_freq(snapshot: Snapshot) -> str:
    """The shortest period giving at most :data:`THROUGHPUT_PERIODS` over the results seen."""
    results = snapshot.results
    stamps = pd.concat([results["created"].dropna(), results["finished"].dropna()])
    if stamps.empty:
        return "1h"
    span = stamps.max() - stamps.min()
    for freq in THROUGHPUT_FREQS:
        if span / pd.Timedelta(freq) <= THROUGHPUT_PERIODS:
            return freq
    return THROUGHPUT_FREQS[-1]
