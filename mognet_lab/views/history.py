"""A :class:`~mognet_lab.History` as a page section: the span, the figures, the charts.

The report adds it when given a history (``Report(snapshot, history=...)``),
the dashboard shows it in a History tab; both render it as they render every
other :class:`~.model.Section`.
"""

from __future__ import annotations

import pandas as pd

from ..history import History
from .cells import format_count, format_delta_bytes, format_size, format_time
from .model import Fact, Section, chart, table

__all__ = ["HISTORY_COLUMNS", "history_section"]

# The figures a reader compares from scan to scan, in reading order.
HISTORY_COLUMNS = ["scanned_at", "app_bytes", "used_memory", "keys", "results",
                   "keys_without_ttl", "without_ttl_bytes", "findings_critical",
                   "findings_warning", "forecast_bytes", "redis_version"]


def history_section(history: History, *, top: int = 20) -> Section:
    """The memory-over-time section of a report or dashboard.

    Parameters
    ----------
    history
        The saved snapshots of the app.
    top
        Rows of the figures table (the latest scans; it says how many it left out).
    """
    figures = history.figures
    if not len(figures):
        return Section("history", "Memory over time", text=(
            f"No saved snapshot of {history.app!r} in {history.directory}.",))
    first, last = figures.iloc[0], figures.iloc[-1]
    facts: tuple[Fact, ...] = (
        Fact("snapshots", format_count(len(figures))),
        Fact("from", format_time(first["scanned_at"])),
        Fact("to", format_time(last["scanned_at"])),
        Fact("app memory", f"{format_size(first['app_bytes'])} -> "
                           f"{format_size(last['app_bytes'])} "
                           f"({format_delta_bytes(int(last['app_bytes'] - first['app_bytes']))})"),
    )
    if history.skipped:
        facts += (Fact("skipped", f"{len(history.skipped)} entries that are not snapshots of "
                                  "this app (History.skipped says why)"),)
    newest = figures.iloc[::-1].reset_index(drop=True)
    charts = (chart("history_kind", "Memory by key kind over time", "memory_over_time",
                    history, by="kind"),
              chart("history_task", "Memory by task over time", "memory_over_time",
                    history, by="task"))
    notes = _version_note(figures)
    return Section("history", "Memory over time", facts=facts, charts=charts, text=notes,
                   tables=(table("history_figures", "Figures per scan, newest first", newest,
                                 top, HISTORY_COLUMNS),))


def _version_note(figures: pd.DataFrame) -> tuple[str, ...]:
    versions = figures["redis_version"].dropna().unique()
    if len(versions) < 2:
        return ()
    return (f"The scans come from Redis {', '.join(map(str, versions))}: memory accounting "
            "changes across versions (7.2 stores small sets as listpacks, 8.2 counts the "
            "key's name), so a step at a version change may be accounting, not data.",)
