"""The one text renderer: a :class:`~.model.Page` as plain text (reprs, the CLI summary).

Cells come from :mod:`.cells`, exactly as in the HTML, Markdown and JSON
renderings, so a repr, the terminal and the report show the same numbers.
"""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from .cells import column_label, column_unit, format_value
from .model import Fact, Page, Section, Table

__all__ = ["frame_text", "kv_text", "render_text"]


def kv_text(pairs: Iterable[tuple[str, str]], *, indent: str = "  ") -> str:
    """``label: value`` lines with the values aligned."""
    items = list(pairs)
    width = max((len(label) for label, _ in items), default=0)
    return "\n".join(f"{indent}{label.ljust(width)}  {value}" for label, value in items)


def frame_text(frame: pd.DataFrame, *, max_rows: int = 20, total: int | None = None) -> str:
    """An aligned text table of the first ``max_rows`` rows, noting the rest."""
    if frame.empty:
        return "  (none)"
    shown = frame.head(max_rows)
    units = [column_unit(str(c), shown[c].dtype) for c in shown.columns]
    header = [column_label(str(c), u) for c, u in zip(shown.columns, units)]
    columns = [[format_value(v, u) for v in shown[c].tolist()]
               for c, u in zip(shown.columns, units)]
    rows = [list(row) for row in zip(*columns)]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["  " + "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    left_out = (len(frame) if total is None else total) - len(shown)
    if left_out > 0:
        lines.append(f"  ... {left_out:,} more rows not shown")
    return "\n".join(lines)


def _facts(facts: tuple[Fact, ...]) -> str:
    return kv_text((f.label, format_value(f.value, f.unit)) for f in facts)


def _table(table: Table) -> str:
    body = frame_text(table.frame, max_rows=len(table.frame) or 1, total=table.total_rows) \
        if len(table.frame) else f"  {table.empty}"
    return (f"{table.title}:\n" if table.title else "") + body + \
        (f"\n  {table.note}" if table.note else "")


def _section(section: Section) -> str:
    parts = [f"{section.title}:"]
    if section.facts:
        parts.append(_facts(section.facts))
    parts += [f"  {text}" for text in section.text]
    parts += [_table(t) for t in section.tables]
    parts += section.blocks
    return "\n".join(parts)


def render_text(page: Page, *, repr_style: bool = True) -> str:
    """``page`` as text: ``<title ...>`` for a repr, or plain lines for a terminal.

    Parameters
    ----------
    page
        What to show.
    repr_style
        Wrap the text in ``<...>`` as a ``__repr__`` (False: the CLI summary,
        sections separated by blank lines).
    """
    parts = [page.title]
    if page.facts:
        parts.append(_facts(page.facts))
    parts += [f"  warning: {text}" for text in page.warnings]
    sections = [_section(s) for s in page.sections]
    notes = [f"  {text}" for text in page.notes]
    if repr_style:
        return "<" + "\n".join(parts + sections + notes) + ">"
    return "\n".join(parts) + "".join(f"\n\n{s}" for s in sections) + \
        "".join(f"\n{n}" for n in notes)
