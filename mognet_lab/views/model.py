"""The one model of a page: facts, capped tables, charts and sections (pure data).

Every view — the report, the notebook reprs, the CLI summary, the dashboard's
tabs and its static fallback — is a :class:`Page` built by :mod:`.pages` or
:mod:`.report` from the analyses, then rendered by :mod:`.html`, :mod:`.text`,
:mod:`.markdown` or :mod:`.jsonout`. Renderers compute nothing; builders
compute nothing either: they pick frames the analyses return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

import pandas as pd

from .cells import shorten

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["Chart", "Fact", "Page", "Section", "TEXT_CAP", "Table", "cap", "chart", "table"]

# Longest text shown in one cell (arguments, messages, details).
TEXT_CAP = 300


@dataclass(frozen=True)
class Fact:
    """One labelled value; ``unit`` (see :mod:`.cells`) says how to show it."""

    label: str
    value: Any
    unit: str = "text"


@dataclass(frozen=True)
class Table:
    """The first rows of an analysis table and how many rows it has in all.

    ``badges`` names the columns shown as coloured labels; ``plain`` leaves
    the layout classes off the cells (a page of results redrawn per click);
    ``row_key`` names a column whose value each row carries as ``data-key``
    (what a click on the row opens); ``titled`` names the columns whose cells
    repeat their text as a tooltip (shown clipped, read whole on hover).
    """

    key: str
    title: str
    frame: pd.DataFrame
    total_rows: int
    note: str | None = None
    empty: str = "(none)"
    badges: tuple[str, ...] = ("severity", "status")
    plain: bool = False
    row_key: str | None = None
    titled: tuple[str, ...] = ()

    @property
    def not_shown(self) -> int:
        return max(self.total_rows - len(self.frame), 0)


@dataclass(frozen=True)
class Chart:
    """A chart, drawn on demand on its own Figure (``draw()`` returns its Axes)."""

    key: str
    title: str
    draw: Callable[[], Axes] = field(repr=False, compare=False)


def chart(key: str, title: str, name: str, data: Any, **options: Any) -> Chart:
    """A chart drawn by ``mognet_lab.charts.<name>(data, **options)`` when rendered."""

    def draw() -> Any:
        from .. import charts  # matplotlib loads only when a chart is drawn

        return getattr(charts, name)(data, **options)

    return Chart(key, title, draw)


@dataclass(frozen=True)
class Section:
    """A titled part of a page; ``blocks`` are preformatted texts (trees, tracebacks)."""

    key: str
    title: str
    facts: tuple[Fact, ...] = ()
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()
    text: tuple[str, ...] = ()
    blocks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page:
    """Everything a renderer shows, in order; the report fills the optional fields."""

    title: str
    facts: tuple[Fact, ...] = ()
    warnings: tuple[str, ...] = ()  # caveats about the figures, shown right under them
    sections: tuple[Section, ...] = ()
    notes: tuple[str, ...] = ()
    footer: tuple[Fact, ...] = ()
    app: str = ""
    nav: bool = False  # a header with links to the sections (the report)
    generated_at: datetime | None = None
    redacted: bool = False
    findings: pd.DataFrame | None = field(default=None, compare=False)
    provenance: dict[str, Any] = field(default_factory=dict)


def cap(frame: pd.DataFrame, top: int | None) -> pd.DataFrame:
    """The first ``top`` rows, text cells cut to :data:`TEXT_CAP` characters."""
    shown = frame.head(top).reset_index(drop=True) if top is not None else frame.copy()
    for column in shown.columns:
        if shown[column].dtype == object or isinstance(shown[column].dtype, pd.StringDtype):
            shown[column] = shown[column].map(_short, na_action="ignore")
    return shown


def _short(value: Any) -> Any:
    return shorten(value, TEXT_CAP) if isinstance(value, str) else value


def table(key: str, title: str, frame: pd.DataFrame, top: int | None,
          columns: list[str] | None = None, *, total: int | None = None,
          **options: Any) -> Table:
    """A :class:`Table` of ``frame``'s first ``top`` rows (``columns`` only, if given).

    ``total`` is the row count of the whole table when ``frame`` is already
    cut; ``options`` are the other :class:`Table` fields (``note``, ``empty``...).
    """
    chosen = frame[[c for c in columns if c in frame.columns]] if columns else frame
    return Table(key, title, cap(chosen, top), len(frame) if total is None else total,
                 **options)
