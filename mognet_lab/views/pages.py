"""Pages of a snapshot, a lab, a comparison and the dashboard, built from the analyses.

Each builder picks frames and figures that :mod:`mognet_lab.analysis`
returns (through the snapshot's memo) and lays them out as a
:class:`~.model.Page` or :class:`~.model.Section`; nothing here computes a
statistic or talks to Redis. The same section builders serve every view:
:func:`overview_section` is the CLI summary's head, the report's summary,
the snapshot's repr and the dashboard's key numbers.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any, Callable

import pandas as pd

from .. import analysis
from ..schemas import FRAME_NAMES
from ..analysis.estimate import sample_label
from ..urls import censor_url
from .cells import (
    column_label,
    format_count,
    format_delta_bytes,
    format_duration,
    format_limit,
    format_size,
)
from .model import Fact, Page, Section, chart, table

if TYPE_CHECKING:
    from ..compare import Comparison
    from ..lab import Lab
    from ..snapshot import Snapshot

__all__ = ["DASHBOARD_SECTIONS", "LABEL_NOTES", "comparison_page", "dashboard_page",
           "findings_section", "label_notes", "lab_page", "overview_section", "results_table",
           "snapshot_page", "summary_page"]

FINDING_COLUMNS = ["severity", "code", "title", "measured", "keys", "bytes", "advice"]
USED_MEMORY_NOTE = ("share of used_memory: the app's keys (MEMORY USAGE) over Redis' "
                    "used_memory, which also counts buffers and other apps.")
_RESULT_COLUMNS = {"created": "created", "result_id": "result_id", "name": "name",
                   "state": "state", "node_id": "node", "duration": "runtime",
                   "value_status": "value", "total_memory_bytes": "memory_bytes",
                   "request_kwargs_repr": "arguments"}

# The labels the analyses give a missing name or state, keys whose result is gone, and
# the sum of the smaller groups (tests pin them to mognet_lab.analysis' own).
MISSING, NO_RESULT, OTHER = "(none)", "(no result)", "(other)"
# What those labels mean, said under any table that shows one.
LABEL_NOTES = {
    MISSING: f'"{MISSING}": the result hash names no task (or no state), as when an id Mognet '
             "never ran is revoked; such a result keeps a placeholder value with no TTL.",
    NO_RESULT: f'"{NO_RESULT}": values, children or metadata whose result hash is gone '
               "(it expired or was deleted before them).",
    OTHER: f'"{OTHER}": all the smaller groups together.',
}


def label_notes(frame: pd.DataFrame, *columns: str) -> str | None:
    """What the group labels (:data:`LABEL_NOTES`) found in ``frame[columns]`` mean."""
    seen: set[object] = set()
    for column in columns:
        if column in frame.columns:
            seen.update(frame[column].astype(object).dropna())
    notes = [text for label, text in LABEL_NOTES.items() if label in seen]
    return " ".join(notes) or None


def _errors(snapshot: Snapshot) -> str:
    errors = analysis.read_errors(snapshot)
    if not errors:
        return "none"
    return (f"{sum(errors.values()):,} rows (" + ", ".join(f"{k} {n:,}" for k, n in
                                                          errors.items())
            + "): see the 'error' columns")


def overview_facts(snapshot: Snapshot) -> tuple[Fact, ...]:
    """The headline figures (:func:`mognet_lab.analysis.overview`), for every view."""
    o, p = analysis.overview(snapshot), snapshot.provenance
    scan = "complete" if o["complete"] else \
        f"PARTIAL: stopped after {o['keys_read']:,} keys (limit); totals undercount"
    sampled = sample_label(p.sample_fraction)
    size: Fact | None = None
    never = f"{o['no_ttl_keys']:,} ({format_size(o['no_ttl_bytes'])})"
    if sampled:  # every total below is scaled up from the sample, with its interval
        scan = f"{scan}; SAMPLED: {o['keys_read']:,} keys read, figures {sampled} " \
               f"(seed {p.sample_seed}), 95% intervals in brackets"
        size = Fact("memory of the app's keys", f"{format_size(o['bytes'])} "
                    f"[{format_size(o['bytes_low'])} - {format_size(o['bytes_high'])}]")
        never = (f"{o['no_ttl_keys']:,.0f} [{o['no_ttl_keys_low']:,.0f} - "
                 f"{o['no_ttl_keys_high']:,.0f}] ({format_size(o['no_ttl_bytes'])} "
                 f"[{format_size(o['no_ttl_bytes_low'])} - "
                 f"{format_size(o['no_ttl_bytes_high'])}]), {sampled}")
    return (
        Fact("app", o["app"]), Fact("url", censor_url(p.url)),
        Fact("scanned at", o["scanned_at"], "time"), Fact("scan took", p.duration_s, "seconds"),
        Fact("scan", scan), Fact("keys", o["keys"], "count"),
        size or Fact("memory of the app's keys", o["bytes"], "bytes"),
        Fact("results", o["results"], "count"),
        Fact("share of Redis used_memory", o["share_of_used_memory"], "share"),
        Fact("maxmemory", format_limit(o["maxmemory"])),
        Fact("keys without TTL", never),
        Fact("errors", _errors(snapshot)),
    )


def _estimated(snapshot: Snapshot) -> dict[str, Any]:
    """A table's note on a sampled snapshot: its figures are estimates."""
    sampled = sample_label(snapshot.provenance.sample_fraction)
    return {"note": f"Counts and bytes {sampled}; X low - X high: the 95% interval."} \
        if sampled else {}


def overview_section(snapshot: Snapshot, title: str = "Key numbers") -> Section:
    """The headline figures as one section (the same in every view), with the scan's warnings."""
    return Section("overview", title, facts=overview_facts(snapshot), text=(
        *(f"warning: {text}" for text in snapshot.warnings), _used_memory_note(snapshot)))


def _used_memory_note(snapshot: Snapshot) -> str:
    if snapshot.provenance.memory_modelled:
        return USED_MEMORY_NOTE.replace("(MEMORY USAGE)", "(modelled from an RDB dump)")
    return USED_MEMORY_NOTE


def findings_section(found: pd.DataFrame, *, max_rows: int = 50,
                     title: str | None = None) -> Section:
    """A findings table (:func:`mognet_lab.analysis.findings`) with severity badges.

    Parameters
    ----------
    found
        Columns ``severity``, ``code``, ``title``, ``measured``, ``keys``,
        ``bytes`` and ``advice``; missing ones are left out.
    max_rows
        Rows shown at most; the table says how many it left out.
    title
        The section's title (default: ``"Findings (N)"``).
    """
    shown = table("findings", "", found, max_rows, FINDING_COLUMNS,
                  empty="No findings: nothing needs attention.")
    return Section("findings", title or f"Findings ({len(found):,})", tables=(shown,))


def _inline(frame: pd.DataFrame, label: str, count: str) -> str:
    low, high = f"{count}_low", f"{count}_high"
    if low in frame.columns:  # an estimate: its interval in brackets
        return ", ".join(f"{row[label]} {row[count]:,.0f} [{row[low]:,.0f}-{row[high]:,.0f}]"
                         for _, row in frame.iterrows()) or "none"
    return ", ".join(f"{row[label]} {row[count]:,}" for _, row in frame.iterrows()) or "none"


def _by_state(snapshot: Snapshot) -> pd.DataFrame:
    return analysis.memory_by(snapshot, "state")


def snapshot_page(snapshot: Snapshot) -> Page:
    """A Snapshot's repr: overview, results by state, value statuses, key kinds."""
    sizes = ", ".join(f"{name}={len(snapshot.frames[name]):,}" for name in FRAME_NAMES
                      if name != "server")
    states, statuses = _by_state(snapshot), analysis.value_statuses(snapshot)
    facts = (*overview_facts(snapshot), Fact("by state", _inline(states, "state", "results")),
             Fact("values", _inline(statuses, "value_status", "results")), Fact("frames", sizes))
    sections = (
        Section("states", "Results by state", tables=(table("by_state", "", states, 20,
                                                            **_estimated(snapshot)),)),
        Section("kinds", "Keys by kind",
                tables=(table("by_kind", "", analysis.memory_by(snapshot, "kind"), 20,
                              **_estimated(snapshot)),)))
    return Page(f"Snapshot of Mognet app {snapshot.app!r}", facts=facts,
                warnings=snapshot.warnings, sections=sections,
                notes=("Frames: snapshot.results, .values, .keys, .children, .metadata, "
                       ".states, .server. One result: snapshot.result(id). Server: "
                       "snapshot.server_info().",))


def lab_page(lab: Lab) -> Page:
    """A Lab: app, censored URL and nodes."""
    nodes = [node.label for node in lab.nodes]
    return Page(f"Mognet lab: app {lab.app!r}", facts=(
        Fact("app", lab.app), Fact("url", censor_url(lab.url)),
        Fact("nodes", f"{len(nodes)}: " + ", ".join(nodes))),
        notes=("lab.scan() reads the app into a Snapshot; lab.value(result_id) reads one "
               "stored value.",))


def _finding_lines(found: pd.DataFrame, count: int) -> str:
    lines = []
    for row in found.head(count).itertuples():
        lines.append(f"  [{row.severity}] {row.title}")
        lines.append(textwrap.fill(row.measured, width=100, initial_indent="      ",
                                   subsequent_indent="      "))
        lines.append(textwrap.fill("-> " + row.advice, width=100, initial_indent="      ",
                                   subsequent_indent="         "))
    return "\n".join(lines) or "  none: nothing to act on"


def summary_page(snapshot: Snapshot, *, findings: int = 5) -> Page:
    """The CLI summary: key numbers, results by state, memory by kind, keys without TTL.

    Parameters
    ----------
    snapshot
        The scan to summarise.
    findings
        How many of the top findings to list (0: none).

    Returns
    -------
    Page
        Rendered by :func:`~.text.render_text` for a terminal.
    """
    sections = [
        Section("states", "Results by state", tables=(table("by_state", "", _by_state(snapshot),
                                                            None, **_estimated(snapshot)),)),
        Section("kinds", "Memory by key kind",
                tables=(table("by_kind", "", analysis.memory_by(snapshot, "kind"), None,
                              **_estimated(snapshot)),)),
        _never_section(snapshot, "Keys without TTL (they never expire)", None)]
    if findings:
        found = analysis.findings(snapshot)
        shown = f" ({min(findings, len(found))} of {len(found)})" if len(found) else ""
        sections.append(Section("findings", f"Top findings{shown}",
                                blocks=(_finding_lines(found, findings),)))
    return Page(f"Mognet app {snapshot.app!r} at {censor_url(snapshot.provenance.url)}",
                facts=overview_facts(snapshot), warnings=snapshot.warnings,
                sections=tuple(sections))


def _never_section(snapshot: Snapshot, title: str, max_rows: int | None = 50) -> Section:
    return Section("never_expiring", title, tables=(
        table("never_expiring", "", analysis.never_expiring(snapshot), max_rows,
              empty="Every key has a TTL.", **_estimated(snapshot)),))


def _frame_section(key: str, title: str, frame: pd.DataFrame, max_rows: int = 20,
                   empty: str = "(none)") -> Section:
    note = label_notes(frame.head(max_rows), *_LABELLED)
    return Section(key, title, tables=(table(key, "", frame, max_rows, empty=empty,
                                             note=note),))


# Columns that hold the analyses' group labels.
_LABELLED = ("name", "state", "node", "kind")


def _values_section(snapshot: Snapshot) -> Section:
    row = analysis.value_summary(snapshot).iloc[0]
    units = {c: "bytes" if str(c).endswith("_bytes") else "ratio" if c == "ratio" else "count"
             for c in row.index}
    return Section("values", "Values", facts=tuple(
        Fact(column_label(str(c), units[c]), row[c], units[c]) for c in row.index))


# Dashboard section -> builder; the tabs show them one by one, the static page all.
DASHBOARD_SECTIONS: dict[str, Callable[[Snapshot], Section]] = {
    "overview": overview_section,
    "findings": lambda s: findings_section(analysis.findings(s)),
    "memory_by_kind": lambda s: _frame_section("memory_by_kind", "Memory by key kind",
                                               analysis.memory_by(s, "kind")),
    "memory_by_task": lambda s: _frame_section("memory_by_task", "Memory by task name (top 10)",
                                               analysis.memory_by(s, "name", top=10), 11,
                                               "No results."),
    "memory_by_state": lambda s: _frame_section("memory_by_state", "Memory by state",
                                                _by_state(s), empty="No results."),
    "never_expiring": lambda s: _never_section(s, "Keys without a TTL"),
    "values": _values_section,
    "largest_values": lambda s: _frame_section("largest_values", "Largest values",
                                               analysis.largest_values(s, n=10), 10,
                                               "No values."),
    "poorly_compressed": lambda s: _frame_section(
        "poorly_compressed", "Poorly compressed values", analysis.poorly_compressed(s),
        empty="No large value is poorly compressed."),
}


def _dashboard_charts(snapshot: Snapshot) -> Section:
    return Section("charts", "Charts", charts=tuple(
        chart(name, name.replace("_", " "), name, snapshot)
        for name in ("memory_gauge", "memory_by_kind", "expiry_schedule")))


def dashboard_page(snapshot: Snapshot, *, charts: bool = False) -> Page:
    """The dashboard as one static page: the sections its tabs show, in order.

    Parameters
    ----------
    snapshot
        The scan shown.
    charts
        Also draw the memory gauge, memory by kind and expiry schedule (PNG).
    """
    sections = [build(snapshot) for build in DASHBOARD_SECTIONS.values()]
    if charts:
        sections.insert(1, _dashboard_charts(snapshot))
    return Page(f"Mognet lab dashboard: app {snapshot.app!r}", warnings=snapshot.warnings,
                sections=tuple(sections),
                notes=("Static view. In Jupyter with ipywidgets the dashboard is interactive: "
                       "charts, the filterable results table, one result's drill-down, "
                       "Refresh.",))


def results_table(rows: pd.DataFrame, *, empty: str = "No result matches the filters.") -> Section:
    """One page of the results table: every row of ``rows``, states as badges.

    Each row carries its result id (``data-key``); the arguments cell repeats its
    text as a tooltip, for frontends that clip it to the column's width.
    """
    shown = rows[[c for c in _RESULT_COLUMNS if c in rows.columns]].rename(
        columns=_RESULT_COLUMNS)
    return Section("results", "Results, newest first", tables=(
        table("results", "", shown, None, empty=empty, badges=("state",), plain=True,
              row_key="result_id", titled=("arguments",)),))


def _summary_facts(comparison: Comparison) -> tuple[Fact, ...]:
    s = comparison.summary
    app = s.app_new if s.app_old == s.app_new else f"{s.app_old} -> {s.app_new}"
    return (Fact("app", app), Fact("time between scans", format_duration(s.elapsed)),
            Fact("keys", f"{format_count(s.keys_old)} -> {format_count(s.keys_new)} "
                         f"({s.delta_keys:+,})"),
            Fact("memory", f"{format_size(s.bytes_old)} -> {format_size(s.bytes_new)} "
                           f"({format_delta_bytes(s.delta_bytes)})"),
            Fact("results", f"{format_count(s.results_old)} -> {format_count(s.results_new)}: "
                            f"{s.new_results:,} new, {s.removed_results:,} gone, "
                            f"{s.changed_state:,} changed state"),
            *(Fact("note", note) for note in s.notes))


def comparison_page(comparison: Comparison, *, max_rows: int = 20) -> Page:
    """Two scans side by side: totals, then the delta tables by kind, task and state.

    Parameters
    ----------
    comparison
        What :func:`mognet_lab.compare` returned.
    max_rows
        Rows shown per delta table; each says how many it left out.
    """
    tables = (("by_kind", "By key kind", comparison.by_kind),
              ("by_task", "By task", comparison.by_task),
              ("by_state", "By state", comparison.by_state))
    return Page("Comparison of two scans", facts=_summary_facts(comparison), sections=tuple(
        Section(key, title, tables=(table(key, "", frame, max_rows),))
        for key, title, frame in tables))
