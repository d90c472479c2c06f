"""The results table of the dashboard: filters, pages, and one HTML table per page.

Filtering works on the scanned ``results`` frame only (never on Redis): a
boolean mask per filter, combined with numpy, over a frame sorted once per
snapshot (newest first). Only the current page becomes markup, as a single
escaped ``<table>``, so hundreds of thousands of results stay responsive: a
widget per row would not.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Callable, Iterator

import ipywidgets as widgets
import numpy as np
import pandas as pd

from ..views.cells import format_cell
from ..views.html import esc, fragment, section_html
from ..views.pages import results_table
from ..errors import bad_option
from ..format import RESULT_STATES

__all__ = ["ALL", "NO_NODE", "ResultFilter", "ResultsTable", "filter_results",
           "page_html", "parse_range", "sort_results"]

ALL = "all"  # label of the option that does not filter
NO_NODE = "(none)"  # the node filter value of results without a node_id
RANGE_SEPARATOR = ".."
Guard = Callable[[Callable[..., Any]], Callable[..., Any]]


@dataclass(frozen=True)
class ResultFilter:
    """What the results table shows; ``None`` (or empty text) does not filter."""

    name: str | None = None
    state: str | None = None
    node: str | None = None  # NO_NODE: results without a node
    text: str = ""  # case-insensitive, in result_id, name or arguments
    since: pd.Timestamp | None = None  # created >= since (UTC)
    until: pd.Timestamp | None = None  # created <= until (UTC)


def sort_results(results: pd.DataFrame) -> pd.DataFrame:
    """Newest first; results without ``created`` last (stable otherwise)."""
    return results.sort_values("created", ascending=False, kind="stable", na_position="last",
                               ignore_index=True)


def _equals(column: pd.Series, value: str) -> np.ndarray:
    return (column.astype(object) == value).to_numpy(dtype=bool) \
        if not isinstance(column.dtype, pd.CategoricalDtype) else \
        column.isin([value]).to_numpy(dtype=bool)


def _text_mask(results: pd.DataFrame, text: str) -> np.ndarray:
    names = results["name"]
    categories = pd.Series(names.cat.categories.astype(str))
    hits = categories[categories.str.contains(text, case=False, regex=False)].tolist()
    mask = names.isin(hits).to_numpy(dtype=bool, copy=True)
    for column in ("result_id", "request_kwargs_repr"):
        found = results[column].astype("string").str.contains(text, case=False, regex=False)
        mask |= found.fillna(False).to_numpy(dtype=bool)
    return mask


def filter_results(results: pd.DataFrame, chosen: ResultFilter) -> pd.DataFrame:
    """The rows of ``results`` that ``chosen`` keeps, in their order."""
    mask = np.ones(len(results), dtype=bool)
    if chosen.name is not None:
        mask &= _equals(results["name"], chosen.name)
    if chosen.state is not None:
        mask &= _equals(results["state"], chosen.state)
    if chosen.node == NO_NODE:
        mask &= results["node_id"].isna().to_numpy(dtype=bool)
    elif chosen.node is not None:
        mask &= _equals(results["node_id"], chosen.node)
    created = results["created"]
    if chosen.since is not None:
        mask &= (created >= chosen.since).fillna(False).to_numpy(dtype=bool)
    if chosen.until is not None:
        mask &= (created <= chosen.until).fillna(False).to_numpy(dtype=bool)
    if chosen.text.strip():
        mask &= _text_mask(results, chosen.text.strip())
    return results[mask]


def _timestamp(value: Any, name: str) -> pd.Timestamp | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, (str, datetime, pd.Timestamp)):
        raise bad_option(name, value, "a date/time (str, datetime or pandas.Timestamp) or None")
    try:
        stamp = pd.Timestamp(value.strip() if isinstance(value, str) else value)
    except (ValueError, TypeError) as exc:
        raise bad_option(name, value, "a date/time such as 2026-11-16 or "
                         "2026-11-16 08:30 (UTC unless it names a zone)") from exc
    if pd.isna(stamp):
        raise bad_option(name, value, "a date/time, not NaT")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def parse_range(text: str) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """``"2026-11-16 .. 2026-11-17 12:00"`` -> (since, until) in UTC; a side may be empty.

    A single date/time without ``..`` means "since then".
    """
    since_text, _, until_text = text.partition(RANGE_SEPARATOR)
    try:
        since, until = _timestamp(since_text, "since"), _timestamp(until_text, "until")
    except ValueError as exc:
        raise bad_option("created range", text, f"'since {RANGE_SEPARATOR} until' with "
                         "dates such as 2026-11-16 08:30 (either side may be left empty)"
                         ) from exc
    _check_order(since, until)
    return since, until


def _check_order(since: pd.Timestamp | None, until: pd.Timestamp | None) -> None:
    if since is not None and until is not None and since > until:
        raise bad_option("created range", f"{since} .. {until}", "since before until")


def format_range(since: pd.Timestamp | None, until: pd.Timestamp | None) -> str:
    def text(stamp: pd.Timestamp | None) -> str:
        return "" if stamp is None else f"{stamp:%Y-%m-%d %H:%M:%S}"
    return "" if since is None and until is None else \
        f"{text(since)} {RANGE_SEPARATOR} {text(until)}".strip()


# The page's own layout: one line per row (ids and times never wrap), arguments
# clipped with an ellipsis (the whole text is the cell's tooltip), rows clickable.
ROWS_CLASS = "mognet-lab-rows"
OPENER_CLASS = "mognet-lab-open"
_ROWS_CSS = (f"<style>.{ROWS_CLASS} td, .{ROWS_CLASS} th {{white-space: nowrap;}}"
             f".{ROWS_CLASS} td:last-child {{max-width: 32em; overflow: hidden; "
             f"text-overflow: ellipsis;}}"
             f".{ROWS_CLASS} tr[data-key] {{cursor: pointer;}}"
             f".{ROWS_CLASS} tr[data-key]:hover {{background: #e8f0fe;}}</style>")
# A click on a row writes its result id (data-key, escaped markup, never code) into
# the table's hidden opener Text, whose change reaches Python like typing would.
_ON_CLICK = ("var r=event.target.closest('tr[data-key]'),b=this.closest('.{tasks}'),"
             "i=b&&b.querySelector('.{opener} input');"
             "if(r&&i){{i.value=r.dataset.key;"
             "i.dispatchEvent(new Event('input',{{bubbles:true}}));"
             "i.dispatchEvent(new Event('change',{{bubbles:true}}));}}")
TASKS_CLASS = "mognet-lab-tasks"


def page_html(page: pd.DataFrame, *, empty: str = "No result matches the filters.") -> str:
    """One escaped ``<table>`` of the rows of ``page`` (all of them), rows clickable."""
    handler = esc(_ON_CLICK.format(tasks=TASKS_CLASS, opener=OPENER_CLASS))
    return (f'{_ROWS_CSS}<div class="{ROWS_CLASS}" title="Click a row to open it in the '
            f'Result tab" onclick="{handler}">'
            f"{fragment(section_html(results_table(page, empty=empty)))}</div>")


def _options(values: list[str], counts: pd.Series | None = None) -> list[tuple[str, Any]]:
    def label(value: str) -> str:
        return value if counts is None else f"{value} ({int(counts.get(value, 0)):,})"
    return [(ALL, None), *((label(v), v) for v in values)]


def _present(column: pd.Series, order: tuple[str, ...] = ()) -> list[str]:
    found = set(column.dropna().astype(str).unique().tolist())
    return [v for v in order if v in found] + sorted(found - set(order))


class ResultsTable:
    """Filters, pager and the current page of a ``results`` frame, as widgets.

    Parameters
    ----------
    results
        A Snapshot's ``results`` frame.
    page_size
        Rows per page.
    on_open
        Called with a result id when the user picks one of the page's results.
    guard
        Wraps every widget callback (the dashboard's shows errors in its banner).
    """

    def __init__(self, results: pd.DataFrame, *, page_size: int = 50,
                 on_open: Callable[[str], None] | None = None,
                 guard: Guard = lambda fn: fn) -> None:
        self.page_size = page_size
        self.filter = ResultFilter()
        self.page = 0
        self._on_open = on_open
        self._quiet = False
        self._build_widgets(guard)
        self.set_results(results)

    # -- widgets ---------------------------------------------------------------
    def _build_widgets(self, guard: Guard) -> None:
        def dropdown(description: str) -> widgets.Dropdown:
            return widgets.Dropdown(description=description, options=[(ALL, None)],
                                    layout=widgets.Layout(width="auto"))
        self.name, self.state, self.node = dropdown("task"), dropdown("state"), dropdown("node")
        self.created = widgets.Text(description="created", continuous_update=False,
                                    placeholder=f"2026-11-16 {RANGE_SEPARATOR} 2026-11-17 12:00",
                                    tooltip="UTC; either side may be empty")
        self.text = widgets.Text(description="search", continuous_update=False,
                                 placeholder="id, task name or arguments")
        self.prev = widgets.Button(description="Prev", icon="arrow-left")
        self.next = widgets.Button(description="Next", icon="arrow-right")
        self.label = widgets.Label()
        self.html = widgets.HTML()
        self.pick = widgets.Dropdown(description="open", options=[("(pick a result)", None)],
                                     layout=widgets.Layout(width="auto"))
        # What a click on a row of the page writes its result id into (hidden).
        self.opener = widgets.Text(layout=widgets.Layout(display="none"))
        self.opener.add_class(OPENER_CLASS)
        for control in (self.name, self.state, self.node, self.created, self.text):
            control.observe(guard(self._on_filter), names="value")
        self.prev.on_click(guard(lambda _: self.go(self.page - 1)))
        self.next.on_click(guard(lambda _: self.go(self.page + 1)))
        self.pick.observe(guard(self._on_pick), names="value")
        self.opener.observe(guard(self._on_pick), names="value")
        filters = widgets.HBox([self.name, self.state, self.node],
                               layout=widgets.Layout(flex_flow="row wrap"))
        search = widgets.HBox([self.created, self.text],
                              layout=widgets.Layout(flex_flow="row wrap"))
        pager = widgets.HBox([self.prev, self.next, self.label, self.pick],
                             layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([filters, search, pager, self.html, self.opener])
        self.widget.add_class(TASKS_CLASS)

    @contextmanager
    def _quietly(self) -> Iterator[None]:
        """Set widget values without each change re-filtering."""
        self._quiet, was = True, self._quiet
        try:
            yield
        finally:
            self._quiet = was

    @staticmethod
    def _keep(control: widgets.Dropdown, options: list[tuple[str, Any]]) -> None:
        """New options; the chosen value stays if it still exists, else "all"."""
        old = control.value
        control.options = options
        control.value = old if old in {value for _, value in options} else None

    # -- data ------------------------------------------------------------------
    def set_results(self, results: pd.DataFrame) -> None:
        """Show a new results frame (a new scan); filters stay where still valid."""
        self.results = sort_results(results)
        names = self.results["name"]
        nodes = _present(self.results["node_id"])
        if self.results["node_id"].isna().any():
            nodes.append(NO_NODE)
        with self._quietly():
            self._keep(self.name, _options(_present(names), names.astype(str).value_counts()))
            self._keep(self.state, _options(_present(self.results["state"], RESULT_STATES)))
            self._keep(self.node, _options(nodes))
        self.filter = replace(self.filter, name=self.name.value, state=self.state.value,
                              node=self.node.value)
        self._apply(keep_page=True)

    def set_filter(self, **changes: Any) -> None:
        """Change some filters (``name``, ``state``, ``node``, ``text``, ``since``, ``until``).

        ``None`` clears any filter, and ``"all"`` a dropdown's (``text="all"``
        searches for "all"); other dropdown values must be among those offered.
        """
        unknown = set(changes) - {"name", "state", "node", "text", "since", "until"}
        if unknown:
            raise bad_option("filter", sorted(unknown), "name, state, node, text, since, until")
        chosen = {key: self._choice(key, value) for key, value in changes.items()
                  if key in ("name", "state", "node")}
        since = _timestamp(changes["since"], "since") if "since" in changes else self.filter.since
        until = _timestamp(changes["until"], "until") if "until" in changes else self.filter.until
        _check_order(since, until)
        text = changes.get("text", self.filter.text)
        text = "" if text is None else text  # None clears, as for every other filter
        if not isinstance(text, str):
            raise bad_option("text", text, "a string")
        with self._quietly():
            for key, value in chosen.items():
                getattr(self, key).value = value
            self.created.value = format_range(since, until)
            self.text.value = text
        self.filter = replace(self.filter, **chosen, text=text, since=since, until=until)
        self._apply()

    def _choice(self, key: str, value: Any) -> str | None:
        if value is None or value == ALL:
            return None
        offered = [v for _, v in getattr(self, key).options if v is not None]
        if value not in offered:
            raise bad_option(key, value, f"None, {ALL!r} or one of the scanned values: "
                             + ", ".join(offered[:20]))
        return str(value)

    def _on_filter(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        since, until, invalid = self.filter.since, self.filter.until, None
        try:
            since, until = parse_range(self.created.value)
        except ValueError as exc:  # the other filters still apply, with the last valid range
            invalid = exc
        self.filter = ResultFilter(name=self.name.value, state=self.state.value,
                                   node=self.node.value, text=self.text.value,
                                   since=since, until=until)
        self._apply()
        if invalid is not None:
            raise invalid

    def _apply(self, *, keep_page: bool = False) -> None:
        self.filtered = filter_results(self.results, self.filter)
        self.go(self.page if keep_page else 0)

    # -- pages -----------------------------------------------------------------
    @property
    def pages(self) -> int:
        return max(1, math.ceil(len(self.filtered) / self.page_size))

    @property
    def current(self) -> pd.DataFrame:
        """The rows of the page shown."""
        start = self.page * self.page_size
        return self.filtered.iloc[start:start + self.page_size]

    def go(self, page: int) -> None:
        """Show page ``page`` (0-based; clamped to the pages there are)."""
        self.page = min(max(int(page), 0), self.pages - 1)
        rows = self.current
        self.html.value = page_html(rows)
        self.label.value = (f"page {self.page + 1} of {self.pages} "
                            f"({len(self.filtered):,} results)")
        self.prev.disabled = self.page == 0
        self.next.disabled = self.page >= self.pages - 1
        picks = [(f"{rid[:8]}  {format_cell(name)}  {format_cell(state)}", rid) for rid, name,
                 state in zip(rows["result_id"].astype(str), rows["name"], rows["state"])]
        with self._quietly():
            self.pick.options = [("(pick a result)", None), *picks]

    def _on_pick(self, change: dict[str, Any]) -> None:
        """A result chosen in the "open" dropdown or by a click on its row."""
        if self._quiet or not change["new"]:
            return
        with self._quietly():  # ready for the next pick or click, even of the same row
            self.pick.value = None
            self.opener.value = ""
        if self._on_open is not None:
            self._on_open(change["new"])
