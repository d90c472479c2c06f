"""The report as a page: sections of facts, capped tables and charts (pure data).

:func:`build_report` asks the analyses (through the snapshot's memo, so each
runs once) and keeps, per table, at most ``top`` rows plus the number of rows
left out, so a report's size does not grow with the keyspace. Charts are
kept as functions that draw them: only the HTML rendering calls them, so
Markdown and JSON never import matplotlib. The summary's head is
:func:`~.pages.overview_facts`, the same figures as every other view.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import analysis
from ..analysis.activity import throughput_freq
from .._version import __version__
from ..schemas import METADATA
from ..units import format_bytes
from ..urls import censor_url
from .cells import is_missing
from .model import Fact, Page, Section, cap, table
from .model import chart as _chart
from .pages import USED_MEMORY_NOTE, label_notes, overview_facts

if TYPE_CHECKING:
    from ..snapshot import Snapshot

__all__ = ["WHAT_IF", "biggest_lever", "build_report", "provenance_dict"]

SUMMARY_FINDINGS = 3
# What-if scenarios every report prices (the first row of what_if is "current").
WHAT_IF: tuple[dict[str, Any], ...] = (
    {"scenario": "values kept 1 day", "value_ttl_s": 86400.0},
    {"scenario": "results kept 7 days", "result_ttl_s": 7 * 86400.0},
    {"scenario": "every value gzipped", "gzip": True},
)


def build_report(snapshot: Snapshot, *, top: int = 20, title: str | None = None,
                 redacted: bool = False) -> Page:
    """Run every analysis of the report on ``snapshot`` (already redacted if asked).

    Parameters
    ----------
    snapshot
        The scan to report on.
    top
        Rows kept per long table; the rest are counted, not shown.
    title
        The report's title (default: ``"Mognet memory report: <app>"``).
    redacted
        Whether ``snapshot`` was redacted (the report says so).
    """
    findings = analysis.findings(snapshot)
    forecast = analysis.what_if(snapshot, WHAT_IF)
    sections = (
        _summary_section(snapshot, findings, forecast),
        server_section(snapshot),
        _findings_section(findings),
        memory_section(snapshot, top, forecast),
        ttl_section(snapshot, top),
        values_section(snapshot, top),
        tasks_section(snapshot, top, forecast),
    )
    now = datetime.now(timezone.utc)
    return Page(
        title=title or f"Mognet memory report: {snapshot.app}", app=snapshot.app, nav=True,
        warnings=snapshot.warnings,
        generated_at=now, redacted=redacted, sections=sections,
        footer=_footer(snapshot, now), findings=cap(findings, None),
        provenance=provenance_dict(snapshot))


def _summary_section(snapshot: Snapshot, findings: pd.DataFrame,
                     forecast: pd.DataFrame) -> Section:
    counts = findings["severity"].value_counts()
    found = ", ".join(f"{int(counts[s])} {s}" for s in ("critical", "warning", "info")
                      if counts.get(s, 0)) or "none"
    facts = (*overview_facts(snapshot), Fact("findings", found),
             Fact("biggest lever", biggest_lever(forecast)))
    shown = min(SUMMARY_FINDINGS, len(findings))
    # Every finding is in the Findings section: this table shows the worst ones, with
    # their advice, and points there instead of counting the rest as "not shown".
    rest = f"All {len(findings)} findings, worst first, are in the Findings section." \
        if len(findings) > shown else None
    top = table("top_findings", f"Top {shown} findings" if shown else "Findings", findings,
                shown, ["severity", "title", "measured", "advice"], total=shown, note=rest,
                empty="Nothing needs attention.")
    return Section("summary", "Summary", facts=facts, tables=(top,), text=(USED_MEMORY_NOTE,))


def biggest_lever(forecast: pd.DataFrame) -> str:
    """The what-if (:data:`WHAT_IF`) that lowers the forecast total most, as a sentence.

    Parameters
    ----------
    forecast
        :func:`mognet_lab.analysis.what_if`; its first row is the current settings.
    """
    totals = pd.to_numeric(forecast["total_bytes"], errors="coerce") if len(forecast) else None
    if totals is None or totals.isna().all():
        return "unknown: too few finished results to forecast memory"
    saved = totals.iloc[0] - totals.iloc[1:]
    if saved.empty or not saved.max() > 0:
        return "none of the what-ifs lowers the forecast (see Forecast and what-if, Tasks)"
    best = saved.idxmax()
    return (f"{forecast['scenario'].iloc[best]}: about {format_bytes(saved[best])} less "
            f"({saved[best] / totals.iloc[0]:.0%} of the forecast "
            f"{format_bytes(totals.iloc[0])}); see Forecast and what-if, under Tasks")


def _findings_section(findings: pd.DataFrame) -> Section:
    text = () if len(findings) else ("Nothing needs attention.",)
    everything = table("findings", "All findings, worst first", findings, None,
                       ["severity", "code", "title", "measured", "keys", "bytes", "advice"])
    return Section("findings", "Findings", tables=(everything,), text=text)


def _footer(snapshot: Snapshot, now: datetime) -> tuple[Fact, ...]:
    p = snapshot.provenance
    return (
        Fact("generated", now, "time"),
        Fact("mognet_lab version", __version__ if p.version == __version__
             else f"{__version__} (scanned with {p.version})"),
        Fact("app", p.app),
        Fact("Redis URL", censor_url(p.url)),
        Fact("scanned at", analysis.reference_time(snapshot), "time"),
        Fact("scan duration", p.duration_s, "seconds"),
        Fact("scan settings", f"batch {p.settings.batch}, limit "
             f"{'none' if p.settings.limit is None else f'{p.settings.limit:,}'}"),
        Fact("scan complete", "yes" if p.complete else "no (stopped by limit)"),
        Fact("keys read", p.keys_read, "count"),
        Fact("memory", "modelled from an RDB dump" if p.memory_modelled else "MEMORY USAGE"),
        *[Fact("scan warning", text) for text in p.warnings],
    )


def provenance_dict(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot's provenance as plain values, its URL censored."""
    p = snapshot.provenance
    return {"app": p.app, "url": censor_url(p.url),
            "scanned_at": analysis.reference_time(snapshot).isoformat(),
            "duration_s": p.duration_s, "complete": p.complete, "keys_read": p.keys_read,
            "version": p.version, "warnings": list(p.warnings),
            "memory_source": p.memory_source,
            "settings": {"batch": p.settings.batch, "limit": p.settings.limit}}


# Bars per chart: charts stay readable and small, whatever the keyspace.
CHART_BARS = 10
CHART_KEYS = 15
_GZIP_TEXT = {None: "as observed", True: "all gzipped", False: "none gzipped"}
_PRESSURE = ["check", "status", "value", "limit", "detail", "node"]
_WHAT_IF = ["scenario", "rate_per_s", "result_ttl_s", "value_ttl_s", "state_ttl_s", "gzip",
            "steady_state_bytes", "never_expiring_bytes", "total_bytes", "headroom_bytes",
            "time_to_maxmemory"]


def server_section(snapshot: Snapshot) -> Section:
    pressure = analysis.server_pressure(snapshot)
    checks = table("server_pressure", "Server checks", pressure, None, _PRESSURE)
    return Section("server", "Server", tables=(checks,))


def memory_section(snapshot: Snapshot, top: int, forecast: pd.DataFrame) -> Section:
    by_kind = analysis.memory_by(snapshot, "kind")
    by_name = analysis.memory_by(snapshot, "name")
    tables = (
        table("memory_by_kind", "By key kind", by_kind, None),
        _labelled("memory_by_task", "By task", by_name, top),
        _labelled("memory_by_state", "By result state", analysis.memory_by(snapshot, "state"),
                  top),
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


def _labelled(key: str, title: str, frame: pd.DataFrame, top: int) -> Any:
    """A table by task or state, saying what "(none)" and the like stand for."""
    return table(key, title, frame, top, note=label_notes(frame.head(top), "name", "state"))


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
        _labelled("compression_by_task", "Compression by task",
                  analysis.compression(snapshot, by="name"), top),
        table("poorly_compressed", "Poorly compressed values (ratio < 1.1, >= 1 KiB)",
              analysis.poorly_compressed(snapshot), top),
        table("exceptions", "Stored exceptions", analysis.exceptions(snapshot), top),
        table("largest_values", "Largest values", analysis.largest_values(snapshot, n=top),
              None, total=len(snapshot.values)),
        _labelled("listpack_overflow", "Values too big for a listpack hash",
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
        _labelled("duration_percentiles", "Queue and run times by task", durations, top),
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
