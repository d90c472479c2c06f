"""The one HTML kit: escaping, the stylesheet, badges, tables; a fragment or a whole page.

No JavaScript, no external stylesheet, font or image: a page can be mailed,
archived or opened offline and shows the same; a fragment (``_repr_html_``,
a dashboard tab) carries its own ``<style>``, scoped to :data:`ROOT`, so it
changes nothing else on a notebook page. Every string comes out of
:func:`esc` (``html.escape(..., quote=True)``), so nothing read from Redis —
task names, arguments, metadata, messages, key names — can become markup.
Badge colours are also set inline, as some frontends strip ``<style>``.
"""

from __future__ import annotations

import base64
import html
import re
from io import BytesIO
from typing import TYPE_CHECKING, Any

from ..errors import MognetLabError
from .cells import MISSING, NUMERIC_UNITS, column_label, column_unit, format_value
from .model import Chart, Fact, Page, Section, Table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["DPI", "ROOT", "badge", "chart_png", "esc", "figure_png", "fragment",
           "html_document", "note", "pre", "render_html", "section_html", "table_html"]

# Pixels per inch of chart images: 96 shows them at their natural size in a browser.
DPI = 96
ROOT = "mlr"
# Badge tone -> (background, text colour); severities, check statuses, result states.
_COLOURS = {"critical": ("#c62828", "#ffffff"), "warning": ("#f9a825", "#000000"),
            "info": ("#1565c0", "#ffffff"), "ok": ("#2e7d32", "#ffffff"),
            "neutral": ("#757575", "#ffffff")}
TONES = {"warn": "warning", "SUCCESS": "ok", "FAILURE": "critical", "REVOKED": "warning",
         "INVALID": "warning", "RUNNING": "info", "PENDING": "info", "SUSPENDED": "info"}
# Columns whose every cell is this short never wrap; nor do ids.
SHORT_CHARS = 20
_ID_COLUMNS = {"result_id", "key", "node", "code", "check"}
# One-word columns up to this long (task and type names) wrap only after . : /
TOKEN_CHARS = 80
_NAME_BREAK = re.compile(r"([.:/])(?=\w)")

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
.{ROOT} pre {{white-space: pre; font-family: monospace; max-height: 30em; overflow: auto;}}
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


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def pre(text: str) -> str:
    """Preformatted, escaped text (trees, tracebacks, JSON)."""
    return f"<pre>{esc(text)}</pre>"


def badge(text: str, tone: str | None = None) -> str:
    """A coloured label; the tone defaults to the text's (``critical``, ``SUCCESS``...)."""
    chosen = TONES.get(tone or text, tone or text)
    background, colour = _COLOURS.get(chosen, _COLOURS["neutral"])
    return (f'<span class="badge" data-tone="{esc(chosen)}" '
            f'style="background:{background};color:{colour}">{esc(text)}</span>')


def fragment(body: str) -> str:
    """``body`` (markup of this kit) in the root ``<div>`` with its scoped style."""
    return f'<div class="{ROOT}"><style>{_CSS}</style>{body}</div>'


def render_html(page: Page, *, document: bool = False) -> str:
    """``page`` as a fragment for notebooks, or (``document=True``) a whole HTML page.

    Parameters
    ----------
    page
        What to show (:mod:`.pages`, :mod:`.report`).
    document
        A whole ``<!DOCTYPE html>`` page instead of one ``<div>`` carrying its
        own scoped ``<style>``.
    """
    parts = [_header(page)]
    if page.facts:
        parts.append(_facts(page.facts))
    parts += [f'<p class="note">{badge("warning")} {esc(text)}</p>' for text in page.warnings]
    parts += [section_html(s) for s in page.sections]
    parts += [note(text) for text in page.notes]
    if page.footer:
        parts.append(f"<footer>{_facts(page.footer)}</footer>")
    root = fragment("".join(parts))
    return html_document(page.title, root) if document else root


def html_document(title: str, fragment: str) -> str:
    """A whole HTML page around a ``fragment`` from :func:`render_html`."""
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{esc(title)}</title></head><body style="margin:0">{fragment}'
            "</body></html>\n")


def _header(page: Page) -> str:
    if not page.nav:
        return f"<header><h1>{esc(page.title)}</h1></header>"
    summary = page.sections[0].facts if page.sections else ()
    scanned = next((f for f in summary if f.label == "scanned at"), None)
    sub = f"app {esc(page.app)}"
    if scanned is not None:
        sub += f" · scanned {esc(format_value(scanned.value, scanned.unit))}"
    if page.redacted:
        sub += " · " + badge("redacted: arguments, metadata and messages hidden", "info")
    links = "".join(f'<a href="#{esc(s.key)}">{esc(s.title)}</a>' for s in page.sections)
    return (f"<header><h1>{esc(page.title)}</h1><p class=\"sub\">{sub}</p>"
            f"<nav>{links}</nav></header>")


def section_html(section: Section) -> str:
    """One section: facts, texts, charts (the picture first), tables, then blocks."""
    parts = [f'<section id="{esc(section.key)}"><h2>{esc(section.title)}</h2>']
    if section.facts:
        parts.append(_facts(section.facts))
    parts += [note(text) for text in section.text]
    if section.charts:
        parts.append('<div class="charts">' + "".join(_figure(c) for c in section.charts)
                     + "</div>")
    if section.tables:  # narrow tables sit side by side; a wide one takes the whole line
        parts.append('<div class="tables">' + "".join(table_html(t) for t in section.tables)
                     + "</div>")
    parts += [pre(block) for block in section.blocks]
    return "".join(parts) + "</section>"


def _facts(facts: tuple[Fact, ...]) -> str:
    items = "".join(f"<dt>{esc(f.label)}</dt><dd>{esc(format_value(f.value, f.unit))}</dd>"
                    for f in facts)
    return f'<dl class="facts">{items}</dl>'


def table_html(table: Table) -> str:
    """A titled table of escaped cells, saying how many rows it left out."""
    title = f'<h3 id="{esc(table.key)}">{esc(table.title)}</h3>' if table.title else ""
    return f'<div class="tblock">{title}{_table_body(table)}</div>'


def _table_body(table: Table) -> str:
    frame = table.frame
    if frame.empty:
        return note(table.empty)
    names = [str(c) for c in frame.columns]
    units = [column_unit(n, frame[c].dtype) for n, c in zip(names, frame.columns)]
    texts = [[format_value(v, u) for v in frame[c].tolist()] for c, u in zip(frame.columns, units)]
    classes = [_column_class(n, u, t) for n, u, t in zip(names, units, texts)]
    head = "".join(f'<th class="{cls}">{esc(column_label(n, u))}</th>'
                   for n, u, cls in zip(names, units, classes))
    columns = [(n in table.badges, _attr(table, cls), cls, column, n in table.titled)
               for n, cls, column in zip(names, classes, texts)]
    keys = [""] * len(frame) if table.row_key not in frame.columns else \
        [f' data-key="{esc(v)}"' for v in frame[table.row_key].astype(str).tolist()]
    rows = "".join(f"<tr{keys[i]}>" + "".join(
        _cell(shown, attr, cls, column[i], titled) for shown, attr, cls, column, titled
        in columns) + "</tr>" for i in range(len(frame)))
    out = (f'<div class="tbl"><table><thead><tr>{head}</tr></thead>'
           f"<tbody>{rows}</tbody></table></div>")
    if table.not_shown:
        out += f'<p class="more">+ {table.not_shown:,} more rows not shown</p>'
    if table.note:
        out += note(table.note)
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


def _attr(table: Table, cls: str) -> str:
    return "" if table.plain else f' class="{cls}"'


def _cell(as_badge: bool, attr: str, cls: str, text: str, titled: bool = False) -> str:
    if as_badge and text != MISSING:
        return f"<td{attr}>{badge(text)}</td>"
    shown = esc(text)
    if titled:
        attr += f' title="{shown}"'

    if cls == "word" and attr:  # "demo.tasks.<wbr>resize_image": names break at their dots
        shown = _NAME_BREAK.sub(r"\1<wbr>", shown)
    return f"<td{attr}>{shown}</td>"


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


def figure_png(figure: Figure, *, dpi: int = DPI) -> bytes:
    """``figure`` itself as PNG bytes: the one way every view turns a chart into an image."""
    from matplotlib.figure import Figure

    # A SubFigure saves through its root Figure (matplotlib >= 3.6 has no get_figure(root=)).
    root = figure if isinstance(figure, Figure) else figure.figure
    buffer = BytesIO()
    root.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def chart_png(chart: Chart, *, dpi: int = DPI) -> bytes:
    """Draw ``chart`` and return its own Figure (never pyplot's "current" one) as PNG."""
    return figure_png(chart.draw().figure, dpi=dpi)  # type: ignore[arg-type]
