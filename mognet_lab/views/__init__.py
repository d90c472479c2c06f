"""The one presentation layer: everything a person sees is a page built here.

One model of a page (:mod:`.model`: facts, capped tables, charts, sections),
one vocabulary of cells (:mod:`.cells`), one HTML kit (:mod:`.html`: a
fragment for ``_repr_html_`` and the dashboard, or a whole document), one
text renderer (:mod:`.text`: reprs and the CLI summary), Markdown and JSON
renderers, one redaction step (:mod:`.redact`). Pages are built by
:mod:`.pages` (snapshot, lab, comparison, CLI summary, dashboard) and
:mod:`.report` from the analyses' memo; nothing here sends a command or
computes a statistic. Importing this package loads neither IPython,
ipywidgets nor matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .html import fragment, render_html, section_html
from .model import Chart, Fact, Page, Section, Table
from .pages import (
    comparison_page,
    dashboard_page,
    findings_section,
    lab_page,
    snapshot_page,
    summary_page,
)
from .result import ResultView
from .server import ServerInfo
from .text import render_text

if TYPE_CHECKING:
    import pandas as pd

    from ..snapshot import Snapshot

__all__ = ["Chart", "Fact", "Page", "ResultView", "Section", "ServerInfo", "Table",
           "comparison_page", "dashboard_page", "findings_html", "findings_section",
           "lab_page", "render_html", "render_text", "snapshot_page", "summary_page",
           "summary_text"]


def findings_html(found: pd.DataFrame, *, max_rows: int = 50) -> str:
    """A findings frame (``mognet_lab.analysis.findings``) as a fragment, with badges."""
    return fragment(section_html(findings_section(found, max_rows=max_rows)))


def summary_text(snapshot: Snapshot, *, findings: int = 5) -> str:
    """The CLI summary of a snapshot: key numbers, results by state, kinds, keys without TTL."""
    return render_text(summary_page(snapshot, findings=findings), repr_style=False)
