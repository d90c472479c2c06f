"""The pieces a report is made of: facts, capped tables, charts and sections (pure data).

Renderers (``html``, ``markdown``, ``jsonout``) read these and compute
nothing; :mod:`.build` and :mod:`.sections` fill them from the analyses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

import pandas as pd

from ..display.text import shorten

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["Chart", "Fact", "ReportData", "Section", "Table", "TEXT_CAP", "cap", "table"]

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
    """The first rows of an analysis table and how many rows it has in all."""

    key: str
    title: str
    frame: pd.DataFrame
    total_rows: int
    note: str | None = None

    @property
    def not_shown(self) -> int:
        return max(self.total_rows - len(self.frame), 0)


@dataclass(frozen=True)
class Chart:
    """A chart, drawn on demand on its own Figure (``draw()`` returns its Axes)."""

    key: str
    title: str
    draw: Callable[[], Axes] = field(repr=False, compare=False)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    facts: tuple[Fact, ...] = ()
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()
    text: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportData:
    """Everything a renderer shows, in order."""

    title: str
    app: str
    generated_at: datetime
    redacted: bool
    sections: tuple[Section, ...]
    footer: tuple[Fact, ...]
    findings: pd.DataFrame
    provenance: dict[str, Any]


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
          columns: list[str] | None = None, *, note: str | None = None,
          total: int | None = None) -> Table:
    """A :class:`Table` of ``frame``'s first ``top`` rows (``columns`` only, if given).

    ``total`` is the row count of the whole table when ``frame`` is already cut.
    """
    chosen = frame[[c for c in columns if c in frame.columns]] if columns else frame
    return Table(key, title, cap(chosen, top), len(frame) if total is None else total, note)
