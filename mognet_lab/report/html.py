"""A report as one self-contained HTML page: inline CSS, charts as PNG ``data:`` URIs.

No JavaScript, no external stylesheet, font or image: the file can be mailed,
archived or opened offline and shows the same. Every string comes out of
:func:`esc` (``html.escape(..., quote=True)``), so nothing read from Redis —
task names, arguments, metadata, messages, key names — can become markup.
Each chart is drawn on its own Figure and saved from that Figure, never
from pyplot's "current figure".
"""

from __future__ import annotations

import base64
import html
import re
from io import BytesIO
from typing import Any

from ..errors import MognetLabError
from .cells import NUMERIC_UNITS, column_label, column_unit, format_value
from .model import Chart, Fact, ReportData, Section, Table

__all__ = ["DPI", "chart_png", "esc", "html_document", "render_html"]

# Pixels per inch of chart images: 96 shows them at their natural size in a browser.
DPI = 96
ROOT = "mlr"
# Badge tone -> (background, text colour); severities and server-check statuses.
_TONES = {
    "critical": ("#c62828", "#ffffff"),
    "warning": ("#f9a825", "#000000"),
    "warn": ("#f9a825", "#000000"),
    "info": ("#1565c0", "#ffffff"),
    "ok": ("#2e7d32", "#ffffff"),
}
_GREY = ("#757575", "#ffffff")
# Columns whose every cell is this short never wrap; nor do ids.
SHORT_CHARS = 20
_ID_COLUMNS = {"result_id", "key", "node", "code", "check"}
# One-word columns up to this long (task and type names) wrap only after . : /
TOKEN_CHARS = 80
_NAME_BREAK = re.compile(r"([.:/])(?=\w)")
_BADGE_COLUMNS = {"severity", "status"}

_CSS = f"""
.{ROOT} {{font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial,
  sans-serif; font-size: 14px; line-height: 1.45; color: #1f2328; background: #ffffff;
  max-width: 1180px; margin: 0 auto; padding: 16px 24px;}}
.{ROOT} h1 {{font-size: 24px; margin: 0 0 4px 0;}}
.{ROOT} h2 {{font-size: 19px; margin: 28px 0 8px 0; padding-bottom: 4px;
  border-bottom: 2px solid #d0d7de;}}
.{ROOT} h3 {{font-size: 15px; margin: 18px 0 6px 0;}}
.{ROOT} .sub {{color: #57606a; margin: 0 0 8px 0;}}
.{ROOT} nav {{margin: 8px 0 0 0; padding: 6px 0; border-top: 1px solid #d0d7de;
  border-bottom: 1px solid #d0d7de;}}
.{ROOT} nav a {{margin-right: 16px; color: #0969da; text-decoration: none;}}
.{ROOT} .facts {{display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px;
  margin: 6px 0 12px 0;}}
.{ROOT} .facts dt {{color: #57606a;}}
.{ROOT} .facts dd {{margin: 0; font-weight: 600; overflow-wrap: anywhere;}}
.{ROOT} .tbl {{overflow-x: auto; margin: 4px 0 2px 0;}}
.{ROOT} table {{border-collapse: collapse; font-size: 13px;}}
.{ROOT} th, .{ROOT} td {{padding: 3px 8px; border-bottom: 1px solid #e4e7eb;
  text-align: left; vertical-align: top;}}
.{ROOT} th {{background: #f3f5f7; font-weight: 600;}}
.{ROOT} td.num, .{ROOT} th.num {{text-align: right;}}
.{ROOT} td.num, .{ROOT} td.tok {{white-space: nowrap;}}
.{ROOT} td.txt {{min-width: 12em; max-width: 36em; overflow-wrap: anywhere;}}
.{ROOT} .tables {{display: flex; flex-wrap: wrap; column-gap: 40px; align-items: flex-start;}}
.{ROOT} .tblock {{min-width: 0; max-width: 100%;}}
.{ROOT} tbody tr:nth-child(even) {{background: #fafbfc;}}
.{ROOT} .more, .{ROOT} .note {{color: #57606a; font-style: italic; margin: 2px 0 8px 0;}}
.{ROOT} .badge {{display: inline-block; border-radius: 3px; padding: 0 6px; font-size: 11px;
  font-weight: 600; white-space: nowrap;}}
.{ROOT} .charts {{display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr));
  gap: 12px 20px; margin: 12px 0;}}
.{ROOT} figure {{margin: 0; min-width: 0;}}
.{ROOT} figure img {{display: block; max-width: 100%; height: auto;
  border: 1px solid #e4e7eb;}}
.{ROOT} footer {{margin-top: 32px; padding-top: 8px; border-top: 2px solid #d0d7de;
  font-size: 12px;}}
.{ROOT} footer .facts dd {{font-weight: normal;}}
"""


def esc(value: Any) -> str:
    """Any value as escaped HTML text."""
    return html.escape(value if isinstance(value, str) else str(value), quote=True)


def render_html(data: ReportData, *, document: bool = True) -> str:
    """The report as HTML: a whole page, or (``document=False``) one ``<div>`` for notebooks.

    The ``<div>`` carries its own ``<style>``, scoped to its class, so it
    changes nothing else on a notebook page.
    """
    body = "".join([_header(data), *(_section(s) for s in data.sections), _footer(data)])
    root = f'<div class="{ROOT}"><style>{_CSS}</style>{body}</div>'
    return html_document(data.title, root) if document else root


def html_document(title: str, fragment: str) -> str:
    """A whole HTML page around a ``fragment`` from ``render_html(..., document=False)``."""
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{esc(title)}</title></head><body style="margin:0">{fragment}'
            "</body></html>\n")


def _header(data: ReportData) -> str:
    summary = data.sections[0].facts if data.sections else ()
    scanned = next((f for f in summary if f.label == "scanned at"), None)
    sub = f"app {esc(data.app)}"
    if scanned is not None:
        sub += f" · scanned {esc(format_value(scanned.value, scanned.unit))}"
    if data.redacted:
        sub += " · " + _badge("redacted: arguments, metadata and messages hidden", "info")
    links = "".join(f'<a href="#{esc(s.key)}">{esc(s.title)}</a>' for s in data.sections)
    return (f"<header><h1>{esc(data.title)}</h1><p class=\"sub\">{sub}</p>"
            f"<nav>{links}</nav></header>")


def _section(section: Section) -> str:
    parts = [f'<section id="{esc(section.key)}"><h2>{esc(section.title)}</h2>']
    if section.facts:
        parts.append(_facts(section.facts))
    parts += [f'<p class="note">{esc(text)}</p>' for text in section.text]
    # Charts first: the picture, then the numbers behind it.
    if section.charts:
        parts.append('<div class="charts">' + "".join(_figure(c) for c in section.charts)
                     + "</div>")
    # Narrow tables sit side by side; a wide one takes the whole line.
    parts.append('<div class="tables">' + "".join(_table(t) for t in section.tables)
                 + "</div>")
    return "".join(parts) + "</section>"


def _facts(facts: tuple[Fact, ...]) -> str:
    items = "".join(f"<dt>{esc(f.label)}</dt><dd>{esc(format_value(f.value, f.unit))}</dd>"
                    for f in facts)
    return f'<dl class="facts">{items}</dl>'


def _table(table: Table) -> str:
    title = f'<h3 id="{esc(table.key)}">{esc(table.title)}</h3>'
    return f'<div class="tblock">{title}{_table_body(table)}</div>'


def _table_body(table: Table) -> str:
    frame = table.frame
    if frame.empty:
        return '<p class="note">(none)</p>'
    units = [column_unit(str(c), frame[c].dtype) for c in frame.columns]
    texts = [[format_value(v, u) for v in frame[c].tolist()] for c, u in zip(frame.columns, units)]
    classes = [_column_class(str(c), u, column) for c, u, column in zip(frame.columns, units,
                                                                         texts)]
    head = "".join(f'<th class="{cls}">{esc(column_label(str(c), u))}</th>'
                   for c, u, cls in zip(frame.columns, units, classes))
    columns = list(zip([str(c) for c in frame.columns], classes, texts))
    rows = "".join("<tr>" + "".join(_cell(name, cls, column[i]) for name, cls, column
                                    in columns) + "</tr>" for i in range(len(frame)))
    out = (f'<div class="tbl"><table><thead><tr>{head}</tr></thead>'
           f"<tbody>{rows}</tbody></table></div>")
    if table.not_shown:
        out += f'<p class="more">+ {table.not_shown:,} more rows not shown</p>'
    if table.note:
        out += f'<p class="note">{esc(table.note)}</p>'
    return out


def _column_class(name: str, unit: str, texts: list[str]) -> str:
    """Numbers align right; short cells and ids never wrap; long names wrap at dots."""
    if unit in NUMERIC_UNITS:
        return "num"
    if name in _ID_COLUMNS or all(len(t) <= SHORT_CHARS for t in texts):
        return "tok"
    if all(len(t) <= TOKEN_CHARS and len(t.split()) == 1 for t in texts):
        return "word"
    return "txt"


def _cell(column: str, cls: str, text: str) -> str:
    if column in _BADGE_COLUMNS and text != "-":
        return f'<td class="{cls}">{_badge(text, text)}</td>'
    shown = esc(text)
    if cls == "word":  # "demo.tasks.<wbr>resize_image": a dotted name breaks at its dots
        shown = _NAME_BREAK.sub(r"\1<wbr>", shown)
    return f'<td class="{cls}">{shown}</td>'


def _badge(text: str, tone: str) -> str:
    background, colour = _TONES.get(tone, _GREY)
    return (f'<span class="badge" style="background:{background};color:{colour}">'
            f"{esc(text)}</span>")


def _figure(chart: Chart) -> str:
    try:
        png = chart_png(chart)
    except MognetLabError as exc:  # e.g. a time span a chart cannot divide into periods
        return (f'<figure><p class="note">{esc(chart.title)}: not drawn ({esc(exc)})</p>'
                "</figure>")
    source = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    # The PNG header holds the size: the page keeps its layout while images decode.
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    return (f'<figure><img src="{source}" width="{width}" height="{height}" '
            f'alt="{esc(chart.title)}" title="{esc(chart.title)}"></figure>')


def chart_png(chart: Chart, *, dpi: int = DPI) -> bytes:
    """Draw ``chart`` and return its own Figure as PNG bytes."""
    from matplotlib.figure import Figure

    # The Figure of the chart's own Axes (never pyplot's "current figure"); a
    # SubFigure saves through its root Figure (matplotlib >= 3.6 has no get_figure(root=)).
    drawn = chart.draw().figure
    figure = drawn if isinstance(drawn, Figure) else drawn.figure
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _footer(data: ReportData) -> str:
    return f"<footer>{_facts(data.footer)}</footer>"
