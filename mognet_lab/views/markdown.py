"""A report as GitHub-flavoured Markdown: the same sections and tables, no images.

Every string goes through :func:`md_escape`: ``<``, ``>`` and ``&`` become
entities (no raw HTML reaches a Markdown renderer) and the characters that
make tables, code, emphasis or links (``| ` * _ [ ] \\``...) are
backslash-escaped, so a task name cannot break a table or inject a link.
Charts are listed by title: they are in the HTML rendering.
"""

from __future__ import annotations

import re

from .cells import NUMERIC_UNITS, column_label, column_unit, format_value
from .model import Fact, Page, Section, Table

__all__ = ["md_escape", "render_markdown"]

_SPECIAL = re.compile(r"([\\`*_\[\]|#!~{}])")
_SPACE = re.compile(r"\s+")


def md_escape(text: object) -> str:
    """``text`` on one line, safe in a Markdown paragraph or table cell."""
    flat = _SPACE.sub(" ", str(text))
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", flat)


def render_markdown(data: Page) -> str:
    """The whole report as one Markdown document."""
    lines = [f"# {md_escape(data.title)}", ""]
    if data.redacted:
        lines += ["_Redacted: task arguments, metadata values and exception messages are "
                  "hidden._", ""]
    lines += [" · ".join(f"[{md_escape(s.title)}](#{s.key})" for s in data.sections), ""]
    if data.facts:
        lines += _facts(data.facts)
    lines += [f"> **warning**: {md_escape(text)}\n" for text in data.warnings]
    for section in data.sections:
        lines += _section(section)
    lines += ["---", "", *_facts(data.footer)]
    return "\n".join(lines).rstrip() + "\n"


def _section(section: Section) -> list[str]:
    lines = [f"## {md_escape(section.title)}", ""]
    if section.facts:
        lines += _facts(section.facts)
    for text in section.text:
        lines += [md_escape(text), ""]
    for table in section.tables:
        lines += _table(table)
    if section.charts:
        titles = ", ".join(md_escape(c.title) for c in section.charts)
        lines += [f"_Charts in the HTML report: {titles}._", ""]
    return lines


def _facts(facts: tuple[Fact, ...]) -> list[str]:
    return [f"- **{md_escape(f.label)}**: {md_escape(format_value(f.value, f.unit))}"
            for f in facts] + [""]


def _table(table: Table) -> list[str]:
    lines = [f"### {md_escape(table.title)}", ""]
    frame = table.frame
    if frame.empty:
        return lines + ["_(none)_", ""]
    units = [column_unit(str(c), frame[c].dtype) for c in frame.columns]
    lines.append("| " + " | ".join(md_escape(column_label(str(c), u))
                                   for c, u in zip(frame.columns, units)) + " |")
    lines.append("|" + "|".join(" ---: " if u in NUMERIC_UNITS else " --- " for u in units) + "|")
    values = [frame[c].tolist() for c in frame.columns]
    for i in range(len(frame)):
        cells = (md_escape(format_value(column[i], unit)) for column, unit in zip(values, units))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if table.not_shown:
        lines += [f"_+ {table.not_shown:,} more rows not shown_", ""]
    if table.note:
        lines += [f"_{md_escape(table.note)}_", ""]
    return lines
