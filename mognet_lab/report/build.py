"""The content of a report as data: sections of facts, capped tables and charts.

:func:`build_report` runs the analyses once and keeps, per table, at most
``top`` rows plus the number of rows left out, so a report's size does not
grow with the keyspace. Text cells are cut to :data:`TEXT_CAP` characters.
Charts are kept as functions that draw them: only the HTML rendering calls
them, so Markdown and JSON never import matplotlib. Renderers (``html``,
``markdown``, ``jsonout``) read this structure and compute nothing.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from .. import analysis
from .._version import __version__
from ..analysis._common import app_bytes
from ..snapshot import Snapshot
from ..urls import censor_url
from .model import Fact, ReportData, Section, cap, table
from .sections import (
    memory_section,
    server_section,
    tasks_section,
    ttl_section,
    values_section,
)

__all__ = ["WHAT_IF", "build_report", "provenance_dict"]

SUMMARY_FINDINGS = 3
# What-if scenarios every report prices (the first row of what_if is "current").
WHAT_IF: tuple[dict[str, Any], ...] = (
    {"scenario": "values kept 1 day", "value_ttl_s": 86400.0},
    {"scenario": "results kept 7 days", "result_ttl_s": 7 * 86400.0},
    {"scenario": "every value gzipped", "gzip": True},
)


def build_report(snapshot: Snapshot, *, top: int = 20, title: str | None = None,
                 redacted: bool = False) -> ReportData:
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
        _summary_section(snapshot, findings),
        server_section(snapshot),
        _findings_section(findings),
        memory_section(snapshot, top, forecast),
        ttl_section(snapshot, top),
        values_section(snapshot, top),
        tasks_section(snapshot, top, forecast),
    )
    now = datetime.now(timezone.utc)
    return ReportData(
        title=title or f"Mognet memory report: {snapshot.app}", app=snapshot.app,
        generated_at=now, redacted=redacted, sections=sections,
        footer=_footer(snapshot, now), findings=cap(findings, None),
        provenance=provenance_dict(snapshot))


def _summary_section(snapshot: Snapshot, findings: pd.DataFrame) -> Section:
    size = app_bytes(snapshot)
    used = analysis.used_memory(snapshot)
    counts = findings["severity"].value_counts()
    found = ", ".join(f"{int(counts[s])} {s}" for s in ("critical", "warning", "info")
                      if counts.get(s, 0)) or "none"
    facts = (
        Fact("app", snapshot.app),
        Fact("scanned at", analysis.reference_time(snapshot), "time"),
        Fact("keys", len(snapshot.keys), "count"),
        Fact("memory of the app's keys", size, "bytes"),
        Fact("results", len(snapshot.results), "count"),
        Fact("share of Redis used_memory", size / used if used and not math.isnan(used)
             else math.nan, "share"),
        Fact("scan", "complete" if snapshot.complete else "partial (stopped by --limit)"),
        Fact("findings", found),
    )
    top3 = table("top_findings", f"Top {SUMMARY_FINDINGS} findings", findings,
                 SUMMARY_FINDINGS, ["severity", "title", "measured"])
    return Section("summary", "Summary", facts=facts, tables=(top3,))


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
        *[Fact("scan warning", text) for text in p.warnings],
    )


def provenance_dict(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot's provenance as plain values, its URL censored."""
    p = snapshot.provenance
    return {"app": p.app, "url": censor_url(p.url),
            "scanned_at": analysis.reference_time(snapshot).isoformat(),
            "duration_s": p.duration_s, "complete": p.complete, "keys_read": p.keys_read,
            "version": p.version, "warnings": list(p.warnings),
            "settings": {"batch": p.settings.batch, "limit": p.settings.limit}}
