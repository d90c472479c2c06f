"""One report of a snapshot, several renderings: HTML, Markdown, JSON, a notebook widget.

>>> from mognet_lab.report import Report
>>> report = Report(snapshot, redact=True)          # doctest: +SKIP
>>> report.to_file("report.html")                   # doctest: +SKIP
>>> report                                          # in a notebook: shows the report

The pipeline runs one way: :func:`mognet_lab.views.redact.redact` (when
asked) -> :func:`mognet_lab.views.report.build_report` (the analyses' memo ->
a page of capped tables, facts, charts) -> one renderer per format, the same
:mod:`mognet_lab.views` renderers every other view uses. Building is lazy
(the first rendering does it) and done once per report.
Importing this package loads neither matplotlib nor ipywidgets.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..errors import bad_option
from ..snapshot import Snapshot
from ..views.html import html_document, render_html
from ..views.jsonout import render_json
from ..views.markdown import render_markdown
from ..views.model import Page
from ..views.redact import REDACTED, redact
from ..views.report import build_report

if TYPE_CHECKING:
    import ipywidgets

    from ..history import History

__all__ = ["REDACTED", "Report", "ReportData", "SUFFIXES", "check_report_path", "redact"]

# What Report.data holds: the report's page (the name it had before views/ existed).
ReportData = Page

# File suffix -> name of the Report method that renders that format.
SUFFIXES = {".html": "to_html", ".md": "to_markdown", ".json": "to_json"}


def check_report_path(path: str | Path) -> str:
    """The name of the Report method rendering ``path``'s format; BadOption if none does
    or if ``path``'s directory does not exist (checked before any scan or rendering)."""
    method = SUFFIXES.get(Path(path).suffix.lower())
    if method is None:
        raise bad_option("path", str(path), "a file name ending in " + ", ".join(SUFFIXES))
    if not Path(path).parent.is_dir():
        raise bad_option("path", str(path), f"a file in an existing directory "
                         f"({Path(path).parent} does not exist)")
    return method


class Report:
    """A memory report of one snapshot.

    Parameters
    ----------
    snapshot
        The scan to report on.
    redact
        Hide task arguments, metadata values and exception messages in every
        rendering (see :mod:`mognet_lab.views.redact`).
    top
        Rows kept per long table; each table says how many it left out.
    title
        The report's title (default: ``"Mognet memory report: <app>"``).
    history
        A :class:`~mognet_lab.History` of the app: adds a "Memory over time"
        section (figures per scan, memory by kind and by task, the forecast).
    """

    def __init__(self, snapshot: Snapshot, *, redact: bool = False, top: int = 20,
                 title: str | None = None, history: History | None = None) -> None:
        if not isinstance(snapshot, Snapshot):
            raise bad_option("snapshot", type(snapshot).__name__, "a mognet_lab Snapshot")
        if not isinstance(redact, bool):
            raise bad_option("redact", redact, "True or False")
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise bad_option("top", top, "an integer >= 1")
        if title is not None and not isinstance(title, str):
            raise bad_option("title", title, "None or a string")
        self.snapshot = snapshot
        self.redact = redact
        self.top = top
        if history is not None:
            from ..history import History

            if not isinstance(history, History):
                raise bad_option("history", type(history).__name__, "None or a History")
        self.title = title
        self.history = history
        self._data: Page | None = None
        self._fragment: str | None = None

    @property
    def data(self) -> Page:
        """The report's content (tables, facts, charts), built on first use."""
        if self._data is None:
            source = redact(self.snapshot) if self.redact else self.snapshot
            self._data = build_report(source, top=self.top, title=self.title,
                                      redacted=self.redact)
            if self.history is not None:
                from ..views.history import history_section

                self._data = dataclasses.replace(self._data, sections=(
                    *self._data.sections, history_section(self.history, top=self.top)))
        return self._data

    def to_html(self) -> str:
        """One self-contained HTML page (inline CSS, charts as PNG ``data:`` URIs)."""
        return html_document(self.data.title, self._html_fragment())

    def to_markdown(self) -> str:
        """The report as GitHub-flavoured Markdown (charts listed by title)."""
        return render_markdown(self.data)

    def to_json(self) -> str:
        """The report as JSON: every table as records, findings and provenance."""
        return render_json(self.data)

    def to_file(self, path: str | Path) -> Path:
        """Write the format that ``path``'s suffix names (.html, .md or .json)."""
        render: Callable[[], str] = getattr(self, check_report_path(path))
        target = Path(path)
        target.write_text(render(), encoding="utf-8")
        return target

    def to_widget(self) -> ipywidgets.HTML:
        """An ``ipywidgets.HTML`` holding the report (for dashboards and layouts)."""
        try:
            import ipywidgets
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("Report.to_widget needs ipywidgets: run `pip install "
                              "ipywidgets` (or use Report.to_html / display the report)."
                              ) from exc
        return ipywidgets.HTML(value=self._html_fragment())

    def _html_fragment(self) -> str:
        if self._fragment is None:
            self._fragment = render_html(self.data, document=False)
        return self._fragment

    def _repr_html_(self) -> str:
        return self._html_fragment()

    def __repr__(self) -> str:
        snapshot = self.snapshot
        return (f"<Report of app {snapshot.app!r}: {len(snapshot.keys):,} keys, "
                f"{len(snapshot.results):,} results; top={self.top}, redact={self.redact}; "
                f"to_html(), to_markdown(), to_json(), to_file(path)>")
