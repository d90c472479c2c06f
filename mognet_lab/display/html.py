"""Tiny HTML helpers shared by every rich display: no JavaScript, every string escaped.

Every helper escapes what it is given (``html.escape``), so no text read from
Redis — task names, arguments, keys, exception messages — can become markup.
Only the strings these helpers build themselves are markup. The class names
below are the one vocabulary of every display; the ``<style>`` block is
scoped to :data:`ROOT` and only cosmetic, as some frontends strip it (badge
colours are therefore also set inline).
"""

from __future__ import annotations

import html
from typing import Any, Iterable, Mapping

import pandas as pd

from .text import Formatter, format_cell, formatted

__all__ = [
    "BADGE",
    "KV",
    "NOTE",
    "ROOT",
    "TABLE",
    "TONES",
    "badge",
    "esc",
    "frame_table",
    "kv_table",
    "note",
    "pre",
    "root",
    "section",
]

ROOT = "mognet-lab"
TABLE = "ml-table"
KV = "ml-kv"
NOTE = "ml-note"
BADGE = "ml-badge"
TITLE = "ml-title"
SECTION = "ml-section"
PRE = "ml-pre"
# Badge tone -> (background, text colour).
TONES: Mapping[str, tuple[str, str]] = {
    "critical": ("#c62828", "#ffffff"),
    "warning": ("#f9a825", "#000000"),
    "info": ("#1565c0", "#ffffff"),
    "ok": ("#2e7d32", "#ffffff"),
    "neutral": ("#757575", "#ffffff"),
}
_STYLE = f"""<style>
.{ROOT} {{font-size: 13px; line-height: 1.4;}}
.{ROOT} .{TITLE} {{font-weight: bold; font-size: 15px; margin: 4px 0;}}
.{ROOT} .{SECTION} {{margin-top: 8px;}}
.{ROOT} table.{TABLE}, .{ROOT} table.{KV} {{border-collapse: collapse; margin: 2px 0;}}
.{ROOT} table td, .{ROOT} table th {{padding: 2px 8px; text-align: left; vertical-align: top;}}
.{ROOT} table.{KV} th {{font-weight: normal; opacity: 0.75;}}
.{ROOT} .{NOTE} {{opacity: 0.75; font-style: italic;}}
.{ROOT} .{BADGE} {{border-radius: 3px; padding: 0 6px; font-size: 11px;}}
.{ROOT} .{PRE} {{white-space: pre; font-family: monospace; max-height: 30em; overflow: auto;}}
</style>"""


def esc(value: Any) -> str:
    """``value`` as escaped text (NA shows as ``-``)."""
    return html.escape(value if isinstance(value, str) else format_cell(value), quote=True)


def root(title: str, *parts: str) -> str:
    """The outer ``<div>`` of a display: style, escaped title, then ``parts`` (markup)."""
    return (f'<div class="{ROOT}">{_STYLE}<div class="{TITLE}">{esc(title)}</div>'
            + "".join(parts) + "</div>")


def section(title: str, body: str) -> str:
    """A titled block; ``body`` is markup built by these helpers."""
    return f'<div class="{SECTION}"><b>{esc(title)}</b>{body}</div>'


def note(text: str) -> str:
    return f'<div class="{NOTE}">{esc(text)}</div>'


def pre(text: str) -> str:
    """Preformatted, escaped text (trees, tracebacks, JSON)."""
    return f'<pre class="{PRE}">{esc(text)}</pre>'


def badge(text: str, tone: str) -> str:
    """A coloured label; unknown tones are grey."""
    background, colour = TONES.get(tone, TONES["neutral"])
    return (f'<span class="{BADGE} {BADGE}-{esc(tone)}" '
            f'style="background:{background};color:{colour}">{esc(text)}</span>')


def kv_table(pairs: Iterable[tuple[str, Any]]) -> str:
    """A two-column table of labels and values (both escaped)."""
    rows = "".join(f"<tr><th>{esc(label)}</th><td>{esc(value)}</td></tr>"
                   for label, value in pairs)
    return f'<table class="{KV}">{rows}</table>'


def frame_table(frame: pd.DataFrame, *, max_rows: int = 20,
                formatters: Mapping[str, Formatter] | None = None,
                markup: Mapping[str, Formatter] | None = None, empty: str = "(none)") -> str:
    """An escaped table of the first ``max_rows`` rows, saying how many were left out.

    Parameters
    ----------
    frame
        The rows to show; the index is not shown.
    max_rows
        Rows shown at most; a note under the table counts the others.
    formatters
        Column -> function giving the cell's text (escaped afterwards).
    markup
        Column -> function giving the cell's markup; it must escape what it
        embeds (use :func:`esc`, :func:`badge`).
    empty
        Text shown instead of a table without rows.
    """
    if frame.empty:
        return note(empty)
    shown = frame.head(max_rows)
    head = "".join(f"<th>{esc(str(c))}</th>" for c in shown.columns)
    cells = formatted(shown, formatters)
    chosen = markup or {}
    builders = [chosen.get(str(c)) for c in shown.columns]
    raw = [shown[c].tolist() for c in shown.columns]
    body = "".join(
        "<tr>" + "".join(f"<td>{build(raw[j][i]) if build else esc(text)}</td>"
                         for j, (build, text) in enumerate(zip(builders, row))) + "</tr>"
        for i, row in enumerate(cells))
    table = f'<table class="{TABLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    left_out = len(frame) - len(shown)
    return table + (note(f"{left_out:,} more rows not shown") if left_out else "")
