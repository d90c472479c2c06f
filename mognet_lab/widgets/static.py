"""The dashboard's HTML fragments, and the whole dashboard as one static page.

The dashboard's tabs and :func:`dashboard_html` show the same fragments, so
the static page (``Dashboard.to_html()``, and what nbconvert or GitHub show
of a saved notebook) reads like the live Overview. Everything is escaped
markup from :mod:`mognet_lab.display.html`, without JavaScript; numbers come
from :mod:`mognet_lab.analysis` as they are. Nothing here imports ipywidgets.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, cast

import pandas as pd

from .. import analysis
from ..display import findings_html
from ..display import html as h
from ..display.text import format_count, format_size, format_time, format_ttl

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..snapshot import Snapshot

__all__ = [
    "dashboard_html",
    "key_numbers",
    "largest_values_html",
    "memory_by_state_html",
    "never_expiring_html",
    "overview_html",
    "poorly_compressed_html",
    "value_summary_html",
]

_SIZES = {c: format_size for c in ("bytes", "stored_bytes", "raw_bytes", "memory_bytes",
                                   "saved_bytes")}


def _percent(share: Any) -> str:
    return "-" if share is None or pd.isna(share) else f"{float(share):.1%}"


_SHARES = {"share_of_app": _percent, "share_of_used_memory": _percent}


def _of_used(nbytes: float, used: float) -> str:
    return "unknown (no used_memory)" if math.isnan(used) or used <= 0 else \
        f"{nbytes / used:.1%} of {format_size(used)}"


def key_numbers(snapshot: Snapshot) -> list[tuple[str, str]]:
    """The headline numbers: keys, memory, results and the app's share of ``used_memory``."""
    # The keys frame is what the scan measured (MEMORY USAGE of every key of the app).
    app, used = float(snapshot.keys["memory_bytes"].sum()), analysis.used_memory(snapshot)
    limit = analysis.maxmemory(snapshot)
    limit_text = "unknown" if math.isnan(limit) else \
        "0 (no limit)" if limit == 0 else format_size(limit)
    p = snapshot.provenance
    scan = "complete" if p.complete else \
        f"PARTIAL: stopped after {p.keys_read:,} keys (limit); totals undercount"
    return [("app", p.app), ("scanned at", format_time(p.scanned_at)), ("scan", scan),
            ("keys", format_count(len(snapshot.keys))),
            ("memory of the app's keys", format_size(app)),
            ("results", format_count(len(snapshot.results))),
            ("share of used_memory", _of_used(app, used)), ("maxmemory", limit_text)]


def overview_html(snapshot: Snapshot) -> str:
    """The key numbers as a small table."""
    return h.kv_table(key_numbers(snapshot))


def _table(frame: pd.DataFrame, *, max_rows: int = 20, empty: str = "(none)",
           formatters: dict[str, Callable[[Any], str]] | None = None) -> str:
    return h.frame_table(frame, max_rows=max_rows, empty=empty,
                         formatters={**_SIZES, **_SHARES, **(formatters or {})})


def memory_by_state_html(snapshot: Snapshot) -> str:
    """Memory of result families per state."""
    return _table(analysis.memory_by(snapshot, by="state"), empty="No results.")


def never_expiring_html(snapshot: Snapshot, *, max_rows: int = 50) -> str:
    """Keys without a TTL, by kind and owning result's state."""
    return _table(analysis.never_expiring(snapshot), max_rows=max_rows,
                  empty="Every key has a TTL.")


def value_summary_html(snapshot: Snapshot) -> str:
    """:func:`~mognet_lab.analysis.value_summary` as label/value pairs."""
    row = analysis.value_summary(snapshot).iloc[0]
    fmt: dict[str, Callable[[Any], str]] = {
        **_SIZES, "ratio": lambda r: "-" if pd.isna(r) else f"{float(r):.2f}x"}
    return h.kv_table((str(col), fmt.get(str(col), format_count)(row[col]))
                      for col in row.index)


def poorly_compressed_html(snapshot: Snapshot, *, max_rows: int = 20) -> str:
    """Values that take room but gzip barely shrinks."""
    return _table(analysis.poorly_compressed(snapshot), max_rows=max_rows,
                  formatters={"compression_ratio": lambda r: "-" if pd.isna(r) else
                              f"{float(r):.2f}x"},
                  empty="No large value is poorly compressed.")


def largest_values_html(snapshot: Snapshot, *, n: int = 10) -> str:
    """The ``n`` values that take the most memory."""
    return _table(analysis.largest_values(snapshot, n=n), max_rows=n,
                  formatters={"ttl_s": format_ttl}, empty="No values.")


def _top_names_html(snapshot: Snapshot, top: int = 10) -> str:
    return _table(analysis.memory_by(snapshot, by="name", top=top), max_rows=top + 1,
                  empty="No results.")


def _charts_html(snapshot: Snapshot) -> str:
    from .. import charts
    from .charts import figure_png

    drawn = [charts.memory_gauge(snapshot), charts.memory_by_kind(snapshot),
             charts.expiry_schedule(snapshot)]
    return "".join(f'<div><img alt="{h.esc(ax.get_title())}" '
                   f'src="data:image/png;base64,{figure_png(cast("Figure", ax.figure))}"/></div>'
                   for ax in drawn)


def dashboard_html(snapshot: Snapshot, *, findings: pd.DataFrame | None = None,
                   charts: bool = False) -> str:
    """The dashboard as one static HTML page: overview, findings and the key tables.

    Parameters
    ----------
    snapshot
        The scan to show.
    findings
        Its :func:`~mognet_lab.analysis.findings`, when already computed.
    charts
        Also embed the memory gauge, memory-by-kind and expiry charts as PNG
        images (``data:`` URIs: larger markup, no JavaScript).
    """
    sections = [
        h.section("Overview", overview_html(snapshot)),
        *([h.section("Charts", _charts_html(snapshot))] if charts else []),
        h.section("Findings", findings_html(analysis.findings(snapshot) if findings is None
                                            else findings)),
        h.section("Memory by key kind", _table(analysis.memory_by(snapshot, by="kind"))),
        h.section("Memory by task name (top 10)", _top_names_html(snapshot)),
        h.section("Memory by state", memory_by_state_html(snapshot)),
        h.section("Keys without a TTL", never_expiring_html(snapshot)),
        h.section("Values", value_summary_html(snapshot)),
        h.section("Largest values", largest_values_html(snapshot)),
        h.section("Poorly compressed values", poorly_compressed_html(snapshot)),
        h.note("Static view. In Jupyter with ipywidgets the dashboard is interactive: "
               "charts, the filterable results table, one result's drill-down, Refresh."),
    ]
    return h.root(f"Mognet lab dashboard: app {snapshot.app!r}", *sections)
