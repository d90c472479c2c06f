"""The dashboard: tabs of charts and tables over one Snapshot, and Refresh.

Presentation only: numbers come from :mod:`mognet_lab.analysis` (the
snapshot's memo), charts from :mod:`mognet_lab.charts`, every HTML fragment
from the sections of :mod:`mognet_lab.views.pages` — the same ones its static
page (:meth:`Dashboard.to_html`) and the other views show; the only Redis
access is :meth:`Lab.scan` on Refresh and :meth:`Lab.value` when the Result
tab is asked for a stored value (capped, never unpickled). A tab
is drawn when it is shown and the snapshot changed since it was last drawn,
so each chart is drawn once per change. Every widget callback runs through
:meth:`Dashboard._guard`: an exception becomes the error banner's message
instead of a traceback lost in the kernel's log.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import ipywidgets as widgets
import pandas as pd

from .. import analysis, charts
from ..errors import MognetLabError, RedisUnavailable, bad_option
from ..history import History
from ..lab import Lab
from ..snapshot import Snapshot
from ..views import dashboard_page, render_html, snapshot_page
from ..views import html as h
from ..views.cells import format_count, format_time
from ..views.model import Section
from ..views.pages import DASHBOARD_SECTIONS
from .banner import RefreshFailed, banner_html, banner_message, error_detail, sentence
from .charts import ChartView
from .table import ResultsTable

__all__ = ["Dashboard", "RefreshFailed", "TAB_TITLES", "VALUE_MAX_BYTES"]

TAB_TITLES = ("Overview", "Memory", "TTL", "Values", "Tasks", "Result")
OVERVIEW, MEMORY, TTL, VALUES, TASKS, RESULT = range(len(TAB_TITLES))
_TOP_CHOICES = (5, 10, 20, 50)
# The most of one stored value the Result tab reads, decompresses and shows.
VALUE_MAX_BYTES = 200_000


def _html() -> widgets.HTML:
    return widgets.HTML(layout=widgets.Layout(max_width="100%", overflow="auto"))


class Dashboard:
    """Tabs of charts and tables over one scan of a Mognet app.

    Parameters
    ----------
    source
        A :class:`~mognet_lab.Lab` (scanned now, and again on Refresh) or a
        :class:`~mognet_lab.Snapshot` (shown as it is: no Refresh).
    snapshot
        With a Lab: show this snapshot instead of scanning first.
    page_size
        Rows per page of the results table.
    progress
        Show a progress bar while scanning.
    history
        A :class:`~mognet_lab.History` of the app: adds a History tab (memory
        by kind and by task over the saved scans, with the forecast line).

    Attributes
    ----------
    snapshot : Snapshot
        The scan shown.
    lab : Lab or None
        What Refresh scans.
    widget : ipywidgets.VBox
        The root widget (displaying the dashboard displays it).
    table : ResultsTable
        The Tasks tab's filters, pager and page.
    charts : dict of str to ChartView
        Every chart, by the name of its :mod:`mognet_lab.charts` function.
    errors : list of str
        The messages the error banner shows (empty when it is hidden).
    """

    def __init__(self, source: Lab | Snapshot, *, snapshot: Snapshot | None = None,
                 page_size: int = 50, progress: bool = True,
                 history: History | None = None) -> None:
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise bad_option("page_size", page_size, "an integer >= 1")
        if isinstance(source, Lab):
            self.lab: Lab | None = source
            self.snapshot = snapshot if snapshot is not None else source.scan(progress=progress)
        elif isinstance(source, Snapshot) and snapshot is None:
            self.lab, self.snapshot = None, source
        else:
            raise bad_option("source", type(source).__name__,
                             "a Lab, or a Snapshot (without snapshot=)")
        self.progress = progress
        self.history = history
        self.errors: list[str] = []
        self._busy = 0  # depth of guarded callbacks running
        self._stale = set(range(len(TAB_TITLES)))
        self._static: str | None = None
        self._shown_result: str | None = None
        self._build(page_size)
        self._show_status()

    @property
    def widget(self) -> widgets.VBox:
        """The root widget; the tab shown is drawn on first use, not at construction."""
        self._render(self.tabs.selected_index)
        return self._root

    # -- errors ----------------------------------------------------------------
    def _guard(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """``callback`` for a widget: its exception shows in the banner, not in the log."""
        @functools.wraps(callback)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not self._busy:  # a user action starts: last action's errors are stale
                self._set_errors([])
            self._busy += 1  # callbacks that this one triggers keep its errors
            try:
                return callback(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - shown to the user, not swallowed
                self._report(exc)
                return None
            finally:
                self._busy -= 1
        return guarded

    def _report(self, exc: BaseException, where: str = "") -> None:
        self._set_errors([*self.errors, banner_message(exc, where)], error_detail(exc))

    def _set_errors(self, errors: list[str], detail: str = "") -> None:
        self.errors = errors
        if not errors:
            self.error_banner.value = ""
            self.error_banner.layout.display = "none"
            return
        self.error_banner.value = banner_html(errors, detail)
        self.error_banner.layout.display = None

    # -- layout ----------------------------------------------------------------
    def _build(self, page_size: int) -> None:
        self.error_banner = widgets.HTML(layout=widgets.Layout(display="none"))
        self.status = widgets.HTML()
        self.refresh_button: widgets.Button | None = None
        header: list[widgets.Widget] = [self.status]
        if self.lab is not None:
            self.refresh_button = widgets.Button(description="Refresh", icon="refresh",
                                                 tooltip="Scan the app again (read-only)")
            self.refresh_button.on_click(self._guard(lambda _: self.refresh()))
            header.insert(0, self.refresh_button)
        self.progress_output = widgets.Output()
        self.charts = {
            "memory_gauge": ChartView(charts.memory_gauge),
            "memory_by_kind": ChartView(charts.memory_by_kind),
            "memory_by_task": ChartView(charts.memory_by_task, top=10),
            "top_keys": ChartView(charts.top_keys),
            "expiry_schedule": ChartView(charts.expiry_schedule),
            "ttl_buckets": ChartView(charts.ttl_buckets),
            "compression_histogram": ChartView(charts.compression_histogram),
            "value_sizes": ChartView(charts.value_sizes),
        }
        self.table = ResultsTable(self.snapshot.results, page_size=page_size,
                                  on_open=self.show_result, guard=self._guard)
        self.tabs = widgets.Tab(children=[self._overview_tab(), self._memory_tab(),
                                          self._ttl_tab(), self._values_tab(),
                                          self.table.widget, self._result_tab()],
                                titles=TAB_TITLES)
        if self.history is not None:
            self._add_history_tab(self.history)
        self.tabs.observe(self._guard(lambda change: self._render(change["new"])),
                          names="selected_index")
        self._root = widgets.VBox([widgets.HBox(header), self.progress_output,
                                   self.error_banner, self.tabs])

    def _add_history_tab(self, history: History) -> None:
        from .history import TITLE, HistoryTab

        self.history_tab = HistoryTab(history)
        self.tabs.children = (*self.tabs.children, self.history_tab.widget)
        self.tabs.set_title(len(self.tabs.children) - 1, TITLE)
        self.tabs.observe(self._guard(self._on_history_tab), names="selected_index")

    def _on_history_tab(self, change: dict[str, Any]) -> None:
        if change["new"] == len(TAB_TITLES):
            self.history_tab.draw()

    def _view(self, name: str) -> widgets.Output:
        return self.charts[name].output

    def _overview_tab(self) -> widgets.Widget:
        self.numbers_html, self.findings_html, self.details_html = _html(), _html(), _html()
        details = widgets.Accordion(children=[self.details_html], titles=["Snapshot details"])
        details.selected_index = None
        return widgets.VBox([self.numbers_html, self._view("memory_gauge"),
                             self.findings_html, details])

    def _memory_tab(self) -> widgets.Widget:
        self.top = widgets.Dropdown(description="top", options=_TOP_CHOICES, value=10,
                                    layout=widgets.Layout(width="auto"))
        self.top.observe(self._guard(lambda change: self._draw("memory_by_task",
                                                               top=change["new"])),
                         names="value")
        self.state_html = _html()
        return widgets.VBox([self._view("memory_by_kind"), self.top, self._view("memory_by_task"),
                             self.state_html, self._view("top_keys")])

    def _ttl_tab(self) -> widgets.Widget:
        self.never_html = _html()
        return widgets.VBox([self._view("expiry_schedule"), self._view("ttl_buckets"),
                             self.never_html])

    def _values_tab(self) -> widgets.Widget:
        self.values_html, self.poor_html = _html(), _html()
        return widgets.VBox([self.values_html, self._view("compression_histogram"),
                             self._view("value_sizes"), self.poor_html])

    def _result_tab(self) -> widgets.Widget:
        self.result_id = widgets.Text(description="result id", continuous_update=False,
                                      placeholder="full id or a prefix of 8+ characters")
        self.open_button = widgets.Button(description="Open", icon="search")
        self.related = widgets.Dropdown(description="go to", options=[("-", None)],
                                        layout=widgets.Layout(width="auto"))
        self.result_html = _html()
        self.result_html.value = h.fragment(h.note("Pick a result in the Tasks tab, or type "
                                                   "its id."))
        self.value_button = widgets.Button(
            description="Show the stored value", icon="eye", disabled=True,
            layout=widgets.Layout(width="auto"),
            tooltip=f"Read this result's value from Redis now (at most "
                    f"{VALUE_MAX_BYTES // 1000} kB, JSON only, never unpickled)"
            if self.lab is not None else "Needs a live Lab: Dashboard(lab)")
        self.value_html = _html()
        self.value_button.on_click(self._guard(lambda _: self.show_value()))
        self.open_button.on_click(self._guard(lambda _: self.show_result(self.result_id.value)))
        self.result_id.observe(self._guard(self._on_result_id), names="value")  # Enter
        self.related.observe(self._guard(self._on_related), names="value")
        return widgets.VBox([widgets.HBox([self.result_id, self.open_button, self.related]),
                             self.result_html, self.value_button, self.value_html])

    # -- drawing ---------------------------------------------------------------
    def _draw(self, name: str, **options: Any) -> None:
        self.charts[name].draw(self.snapshot, **options)

    def _parts(self, index: int) -> list[tuple[str, Callable[[], None]]]:
        """What tab ``index`` shows, as (label for errors, drawing step) pairs."""
        snap = self.snapshot

        def put(widget: widgets.HTML, name: str) -> Callable[[], None]:
            def show() -> None:
                widget.value = h.fragment(h.section_html(self._section(name)))
            return show

        def details() -> None:
            self.details_html.value = render_html(snapshot_page(snap))

        def draw(name: str, **options: Any) -> Callable[[], None]:
            return lambda: self._draw(name, **options)

        return {
            OVERVIEW: [("key numbers", put(self.numbers_html, "overview")),
                       ("memory gauge", draw("memory_gauge")),
                       ("findings", put(self.findings_html, "findings")),
                       ("details", details)],
            MEMORY: [("memory by kind", draw("memory_by_kind")),
                     ("memory by task", draw("memory_by_task", top=self.top.value)),
                     ("memory by state", put(self.state_html, "memory_by_state")),
                     ("top keys", draw("top_keys"))],
            TTL: [("expiry schedule", draw("expiry_schedule")),
                  ("TTL buckets", draw("ttl_buckets")),
                  ("keys without a TTL", put(self.never_html, "never_expiring"))],
            VALUES: [("value summary", put(self.values_html, "values")),
                     ("compression", draw("compression_histogram")),
                     ("value sizes", draw("value_sizes")),
                     ("poorly compressed", put(self.poor_html, "poorly_compressed"))],
        }.get(index, [])

    def _section(self, name: str) -> Section:
        return DASHBOARD_SECTIONS[name](self.snapshot)

    def _render(self, index: int | None) -> None:
        """Draw tab ``index`` if the snapshot changed since it was drawn; one failing
        part does not stop the others (each error goes to the banner)."""
        if index is None or index not in self._stale:
            return
        self._stale.discard(index)
        for where, part in self._parts(index):
            try:
                part()
            except Exception as exc:  # noqa: BLE001 - shown in the banner
                self._report(exc, f"{TAB_TITLES[index]}, {where}: ")

    def _show_status(self) -> None:
        o = analysis.overview(self.snapshot)  # the figures of the Key numbers, in one line
        partial = "" if o["complete"] else " &middot; <b>partial scan</b> (limit)"
        self.status.value = (
            f"<b>Mognet app {h.esc(o['app'])}</b> &middot; scanned "
            f"{h.esc(format_time(o['scanned_at']))} &middot; {h.esc(format_count(o['keys']))} "
            f"keys, {h.esc(format_count(o['results']))} results{partial}")

    # -- public API ------------------------------------------------------------
    def set_snapshot(self, snapshot: Snapshot) -> None:
        """Show ``snapshot`` instead: every tab is redrawn, filters kept where valid."""
        if not isinstance(snapshot, Snapshot):
            raise bad_option("snapshot", type(snapshot).__name__, "a Snapshot")
        if not self._busy:  # called from code, not from a widget: start a clean banner
            self._set_errors([])
        self.snapshot, self._static = snapshot, None
        self._stale = set(range(len(TAB_TITLES)))
        self._show_status()
        self.table.set_results(snapshot.results)
        self._rerender_result()
        self._render(self.tabs.selected_index)

    def refresh(self) -> Snapshot:
        """Scan the attached Lab again and redraw everything; returns the new snapshot."""
        if self.lab is None:
            raise MognetLabError("This dashboard shows a Snapshot without a Lab, so there is "
                                 "nothing to rescan: build it with Dashboard(lab) to refresh.")
        if self.refresh_button is not None:
            self.refresh_button.disabled = True
        failure: Exception | None = None
        try:
            # Caught inside the Output context: in a kernel, Output.__exit__ prints an
            # escaping exception's traceback into the page and swallows it.
            with self.progress_output:
                try:
                    snapshot = self.lab.scan(progress=self.progress)
                except Exception as exc:  # noqa: BLE001 - re-raised below, worded
                    failure = exc
        finally:
            self.progress_output.outputs = ()
            if self.refresh_button is not None:
                self.refresh_button.disabled = False
        if failure is not None:
            raise RefreshFailed(self._refresh_advice(failure)) from failure
        self.set_snapshot(snapshot)
        return snapshot

    def _refresh_advice(self, exc: Exception) -> str:
        scanned = self.snapshot.provenance.scanned_at
        what = "Check the server and press" if isinstance(exc, RedisUnavailable) else "Press"
        return (f"Could not refresh: {sentence(banner_message(exc))} The data below is from "
                f"the scan at {scanned:%H:%M:%S} UTC ({scanned:%Y-%m-%d}). "
                f"{what} Refresh again.")

    def findings(self) -> pd.DataFrame:
        """:func:`mognet_lab.analysis.findings` of the snapshot shown (the snapshot's memo)."""
        return analysis.findings(self.snapshot)

    def set_filter(self, **changes: Any) -> None:
        """Filter the results table: ``name``, ``state``, ``node``, ``text``, ``since``,
        ``until`` (``None`` clears any of them, ``"all"`` a dropdown's); see
        :class:`ResultsTable`."""
        self.table.set_filter(**changes)

    def show_result(self, result_id: str) -> None:
        """Open one result (full id or unique 8+ character prefix) in the Result tab."""
        view = self.snapshot.result(result_id)
        self._shown_result = view.result_id
        self.result_html.value = view._repr_html_()
        parent = view.fields.get("parent_id")
        related = [(f"parent {parent}", parent)] if parent else []
        related += [(f"child {kid}", kid) for kid in view.children_ids[:200]]
        self.related.options = [("-", None), *related]
        self.result_id.value = view.result_id
        self.value_html.value = ""
        self.value_button.disabled = self.lab is None
        self.tabs.selected_index = RESULT

    def show_value(self) -> None:
        """Read the shown result's stored value now and show it decoded, at most
        ``VALUE_MAX_BYTES`` of it (:meth:`Lab.value`: JSON only, never unpickled)."""
        if self.lab is None or self._shown_result is None:
            raise MognetLabError("Open a result first, in a dashboard built from a Lab: "
                                 "reading a stored value needs Redis.")
        view = self.lab.value(self._shown_result, max_bytes=VALUE_MAX_BYTES)
        self.value_html.value = view._repr_html_()

    def _on_result_id(self, change: dict[str, Any]) -> None:
        # show_result() itself sets the box to the full id it opened: nothing to do then.
        if change["new"].strip() and change["new"] != self._shown_result:
            self.show_result(change["new"])

    def _on_related(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            self.show_result(change["new"])

    def _rerender_result(self) -> None:
        shown = self._shown_result
        if shown is None:
            return
        try:
            self.result_html.value = self.snapshot.result(shown)._repr_html_()
        except KeyError:
            self._shown_result = None
            self.value_html.value, self.value_button.disabled = "", True
            self.result_html.value = h.fragment(h.note(f"Result {shown} is not in the new "
                                                       "scan (expired or deleted)."))

    # -- rendering -------------------------------------------------------------
    def to_html(self, *, charts: bool = False) -> str:
        """The dashboard as static HTML (no JavaScript): overview, findings, key tables.

        Parameters
        ----------
        charts
            Also embed three charts as PNG images.
        """
        if charts:
            return render_html(dashboard_page(self.snapshot, charts=True))
        if self._static is None:
            self._static = render_html(dashboard_page(self.snapshot))
        return self._static

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None,
                          **kwargs: Any) -> dict[str, Any]:
        # The widget view for live Jupyter; text/html for nbconvert, GitHub and
        # frontends without the widget extension (they skip the widget view).
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = repr(self)
        bundle["text/html"] = self.to_html()
        return bundle

    def __repr__(self) -> str:
        p = self.snapshot.provenance
        lab = "with Refresh" if self.lab is not None else "no Refresh"
        return (f"<Dashboard app={p.app!r} results={len(self.snapshot.results):,} "
                f"scanned_at={p.scanned_at:%Y-%m-%d %H:%M:%S}Z {lab}>")
