"""The ipywidgets dashboard, headless: widget values, callbacks, escaping, static HTML.

Widgets work without a frontend: button clicks (``button.click()``) and value
changes run the same callbacks a browser would trigger, and Output widgets are
inspected through their ``outputs`` tuple.
"""

from __future__ import annotations

import html
import math
import re
import subprocess
import sys
from datetime import datetime, timezone
from typing import Any, Iterator

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import mognet_lab
from mognet_lab import BadOption, MognetLabError, RedisUnavailable, Snapshot, charts
from mognet_lab.demo import Demo
from mognet_lab.schemas import FRAME_NAMES
from mognet_lab.widgets import TAB_TITLES, Dashboard
from mognet_lab.widgets.charts import ChartView
from mognet_lab.widgets.dashboard import MEMORY, OVERVIEW, RESULT, TASKS

SCRIPT = "<script>alert('x')</script>"
PAGE = 50


# -- fixtures and helpers ---------------------------------------------------------------
@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def snapshot(demo_keyspace: Snapshot) -> Snapshot:
    return demo_keyspace


@pytest.fixture
def dash(snapshot: Snapshot) -> Dashboard:
    return Dashboard(snapshot)


def newest_first(results: pd.DataFrame) -> pd.DataFrame:
    """The order the table promises: newest ``created`` first, missing last."""
    return results.sort_values("created", ascending=False, kind="stable", na_position="last",
                               ignore_index=True)


def body_rows(markup: str) -> list[list[str]]:
    """The cells (inner markup) of every ``<tbody>`` row of the one table in ``markup``."""
    assert markup.count("<table") == 1, markup[:500]
    body = re.search(r"<tbody>(.*)</tbody>", markup, re.S)
    assert body is not None
    return [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)]


def page_ids(table_html: str) -> list[str]:
    return [html.unescape(cells[1]) for cells in body_rows(table_html)]  # column 1: result_id


def with_frames(snapshot: Snapshot, **frames: pd.DataFrame) -> Snapshot:
    """A copy of ``snapshot`` (as Snapshot.from_frames builds it) with some frames replaced."""
    given = {name: frames.get(name, snapshot.frames[name]) for name in FRAME_NAMES}
    return Snapshot.from_frames(app=snapshot.app, scanned_at=snapshot.provenance.scanned_at,
                                **given)


def all_markup(widget: widgets.Widget) -> Iterator[str]:
    """Every HTML string the widget tree shows (HTML widgets, Outputs' text/html)."""
    if isinstance(widget, (widgets.HTML, widgets.HTMLMath)):
        yield widget.value
    if isinstance(widget, widgets.Output):
        for output in widget.outputs:
            yield str(output.get("data", {}).get("text/html", ""))
            yield str(output.get("text", ""))
    for child in getattr(widget, "children", ()):
        yield from all_markup(child)


# -- layout ----------------------------------------------------------------------------
def test_tabs_and_layout(dash: Dashboard) -> None:
    root = dash.widget
    assert isinstance(root, widgets.VBox)
    assert dash.tabs in root.children and dash.error_banner in root.children
    assert tuple(dash.tabs.titles) == TAB_TITLES == (
        "Overview", "Memory", "TTL", "Values", "Tasks", "Result")
    assert len(dash.tabs.children) == len(TAB_TITLES)
    assert dash.tabs.children[TASKS] is dash.table.widget
    assert dash.lab is None and dash.refresh_button is None  # a Snapshot: nothing to rescan
    assert dash.errors == [] and dash.error_banner.layout.display == "none"


def test_overview_is_drawn_when_shown(dash: Dashboard, snapshot: Snapshot) -> None:
    assert dash.charts["memory_gauge"].draws == 0  # nothing drawn before it is displayed
    dash.widget
    assert dash.charts["memory_gauge"].draws == 1
    assert f"{len(snapshot.results):,}" in dash.numbers_html.value
    assert "share of used_memory" in dash.numbers_html.value
    for title in dash.findings()["title"]:
        assert html.escape(str(title)) in dash.findings_html.value
    assert dash.errors == []


def test_snapshot_to_widget_has_no_refresh(snapshot: Snapshot) -> None:
    dash = snapshot.to_widget(page_size=20)
    assert isinstance(dash, Dashboard) and dash.snapshot is snapshot
    assert dash.refresh_button is None
    assert dash.table.page_size == 20
    with pytest.raises(MognetLabError, match="nothing to rescan"):
        dash.refresh()


@pytest.mark.parametrize("bad", [{"source": "redis://localhost"}, {"page_size": 0},
                                 {"page_size": 2.5}])
def test_bad_arguments(snapshot: Snapshot, bad: dict[str, Any]) -> None:
    with pytest.raises(BadOption):
        Dashboard(bad.get("source", snapshot), page_size=bad.get("page_size", 50))


# -- results table ---------------------------------------------------------------------
def test_first_page(dash: Dashboard, snapshot: Snapshot) -> None:
    expected = newest_first(snapshot.results)
    pages = math.ceil(len(expected) / PAGE)
    assert dash.table.label.value == f"page 1 of {pages} ({len(expected):,} results)"
    assert page_ids(dash.table.html.value) == expected["result_id"].head(PAGE).tolist()
    assert dash.table.prev.disabled and not dash.table.next.disabled


def test_next_and_prev_buttons(dash: Dashboard, snapshot: Snapshot) -> None:
    expected = newest_first(snapshot.results)["result_id"]
    dash.table.next.click()
    assert dash.table.label.value.startswith("page 2 of ")
    ids = page_ids(dash.table.html.value)
    assert ids[0] == expected.iloc[PAGE] and ids == expected.iloc[PAGE:2 * PAGE].tolist()
    dash.table.prev.click()
    assert page_ids(dash.table.html.value)[0] == expected.iloc[0]


def test_last_page_is_short_and_next_stops(snapshot: Snapshot) -> None:
    dash = Dashboard(snapshot, page_size=7)
    pages = math.ceil(len(snapshot.results) / 7)
    for _ in range(pages + 3):
        dash.table.next.click()
    assert dash.table.label.value.startswith(f"page {pages} of {pages} ")
    assert dash.table.next.disabled
    assert len(body_rows(dash.table.html.value)) == len(snapshot.results) - 7 * (pages - 1)


def _pandas_filters(results: pd.DataFrame) -> dict[str, tuple[dict[str, Any], pd.Series]]:
    """Filter -> (set_filter keywords, the equivalent pandas mask)."""
    common = results["name"].astype(str).value_counts().index[0]
    kwargs = results["request_kwargs_repr"].astype(str)
    middle = results["created"].sort_values().iloc[len(results) // 2]
    node = results["node_id"].astype(str)
    return {
        "state": ({"state": "FAILURE"}, results["state"] == "FAILURE"),
        "name": ({"name": common}, results["name"] == common),
        "text": ({"text": "INVOICE"}, kwargs.str.lower().str.contains("invoice")),
        "node": ({"node": "worker-2"}, node == "worker-2"),
        "since": ({"since": middle}, results["created"] >= middle),
        "combined": ({"name": common, "state": "SUCCESS", "until": middle},
                     (results["name"] == common) & (results["state"] == "SUCCESS")
                     & (results["created"] <= middle)),
    }


@pytest.mark.parametrize("which", ["state", "name", "text", "node", "since", "combined"])
def test_filters_match_pandas(dash: Dashboard, snapshot: Snapshot, which: str) -> None:
    keywords, mask = _pandas_filters(snapshot.results)[which]
    expected = newest_first(snapshot.results[mask.fillna(False).to_numpy(dtype=bool)])
    assert 0 < len(expected) < len(snapshot.results), which
    dash.set_filter(**keywords)
    assert dash.table.filtered["result_id"].tolist() == expected["result_id"].tolist()
    assert page_ids(dash.table.html.value) == expected["result_id"].head(PAGE).tolist()
    assert f"({len(expected):,} results)" in dash.table.label.value


def test_filter_widgets_follow_set_filter_and_back(dash: Dashboard) -> None:
    dash.set_filter(state="FAILURE", text="invoice", since="2000-01-01")
    assert dash.table.state.value == "FAILURE" and dash.table.text.value == "invoice"
    assert dash.table.created.value.startswith("2000-01-01 00:00:00 ..")
    dash.set_filter(state="all", text="", since=None)
    assert dash.table.state.value is None
    assert len(dash.table.filtered) == len(dash.snapshot.results)


def test_set_filter_none_clears_every_filter(dash: Dashboard) -> None:
    dash.set_filter(state="FAILURE", text="invoice", since="2000-01-01")
    assert len(dash.table.filtered) < len(dash.snapshot.results)
    dash.set_filter(name=None, state=None, node=None, text=None, since=None, until=None)
    assert dash.table.text.value == "" and dash.table.state.value is None
    assert dash.table.filter.text == "" and dash.table.filter.since is None
    assert len(dash.table.filtered) == len(dash.snapshot.results)
    with pytest.raises(BadOption, match="text"):
        dash.set_filter(text=3)


def test_filter_through_widgets(dash: Dashboard, snapshot: Snapshot) -> None:
    dash.table.state.value = "FAILURE"  # what choosing in the dropdown does
    expected = (snapshot.results["state"] == "FAILURE").sum()
    assert len(dash.table.filtered) == expected
    dash.table.text.value = "no such text anywhere"
    assert dash.table.label.value == "page 1 of 1 (0 results)"
    assert "No result matches" in dash.table.html.value


def test_set_filter_rejects_unknown_values(dash: Dashboard) -> None:
    with pytest.raises(BadOption, match="name"):
        dash.set_filter(name="no.such.task")
    with pytest.raises(BadOption, match="since before until"):
        dash.set_filter(since="2026-02-01", until="2026-01-01")
    with pytest.raises(BadOption, match="colour"):
        dash.set_filter(colour="red")


def test_filters_survive_a_new_snapshot_where_valid(dash: Dashboard,
                                                    snapshot: Snapshot) -> None:
    results = snapshot.results
    rare = results["name"].astype(str).value_counts().index[-1]
    dash.set_filter(name=rare, text="a")
    dash.table.state.value = "SUCCESS"
    kept = results[results["name"].astype(str) != rare]
    dash.set_snapshot(with_frames(snapshot, results=kept))
    assert dash.table.name.value is None  # the task is gone from the new scan: back to all
    assert dash.table.state.value == "SUCCESS" and dash.table.text.value == "a"
    assert set(dash.table.filtered["state"].astype(str)) == {"SUCCESS"}


# -- charts ----------------------------------------------------------------------------
def test_chart_view_shows_one_figure_after_drawing_twice(snapshot: Snapshot) -> None:
    view = ChartView(charts.memory_by_task, top=5)
    first = view.draw(snapshot)
    second = view.draw(snapshot, top=3)
    assert first is not second and view.figure is second and view.draws == 2
    assert len(view.output.outputs) == 1
    shown = view.output.outputs[0]
    assert shown["output_type"] == "display_data" and shown["data"]["image/png"]
    assert plt.get_fignums() == []  # pyplot never saw a figure: nothing left open


def test_tab_charts_redraw_once_per_change(dash: Dashboard) -> None:
    dash.tabs.selected_index = MEMORY
    task = dash.charts["memory_by_task"]
    assert task.draws == 1 and len(task.output.outputs) == 1
    dash.top.value = 5
    dash.top.value = 20
    assert task.draws == 3 and len(task.output.outputs) == 1
    assert "top 20" in task.figure.axes[0].get_title()
    dash.tabs.selected_index = OVERVIEW
    dash.tabs.selected_index = MEMORY  # shown again, nothing changed: not redrawn
    assert task.draws == 3 and dash.charts["memory_by_kind"].draws == 1
    assert plt.get_fignums() == []


def test_every_tab_renders_without_errors(dash: Dashboard) -> None:
    dash.widget  # draws the Overview, shown first
    for index in range(len(TAB_TITLES)):
        dash.tabs.selected_index = index
    assert dash.errors == []
    assert all(view.draws == 1 and len(view.output.outputs) == 1
               for view in dash.charts.values())
    assert "<table" in dash.never_html.value or "Every key has a TTL" in dash.never_html.value


# -- errors ----------------------------------------------------------------------------
def test_invalid_date_range_shows_in_the_banner(dash: Dashboard) -> None:
    before = dash.table.label.value
    dash.table.created.value = "last tuesday .. whenever"
    assert dash.errors and "created range" in dash.errors[0]
    assert "last tuesday" in html.unescape(dash.error_banner.value)
    assert dash.error_banner.layout.display != "none"
    assert dash.table.label.value == before  # the range in force did not change
    dash.table.state.value = "FAILURE"  # other filters still work, the error stays
    assert set(dash.table.filtered["state"].astype(str)) == {"FAILURE"}
    assert dash.errors and "created range" in dash.errors[0]
    dash.table.created.value = "2000-01-01 .."
    assert dash.errors == [] and dash.error_banner.layout.display == "none"


def test_a_failing_chart_is_reported_and_the_others_still_draw(dash: Dashboard) -> None:
    def broken(data: Any, **options: Any) -> Any:
        raise RuntimeError("the chart broke")

    dash.charts["top_keys"].chart = broken
    dash.tabs.selected_index = MEMORY
    assert any("the chart broke" in e for e in dash.errors)
    assert "the chart broke" in dash.error_banner.value
    assert dash.charts["memory_by_kind"].draws == 1 and dash.state_html.value
    assert "the chart broke" in dash.charts["top_keys"].output.outputs[0]["text"]


def test_unknown_result_id_shows_in_the_banner(dash: Dashboard) -> None:
    dash.result_id.value = "00000000-no-such-result"  # typed, then Enter
    assert dash.errors and "No result" in dash.errors[0]
    dash.open_button.click()
    assert len(dash.errors) == 1 and "No result" in dash.errors[0]


def test_typing_an_id_prefix_opens_it(dash: Dashboard, snapshot: Snapshot) -> None:
    wanted = snapshot.results["result_id"].iloc[7]
    dash.result_id.value = wanted[:10]
    assert dash.result_id.value == wanted and dash.tabs.selected_index == RESULT
    assert html.escape(wanted) in dash.result_html.value and dash.errors == []


# -- drill-down ------------------------------------------------------------------------
def test_picking_a_result_opens_the_drill_down(dash: Dashboard, snapshot: Snapshot) -> None:
    dash.set_filter(state="FAILURE")
    chosen = dash.table.filtered.iloc[2]
    dash.table.pick.value = chosen["result_id"]  # what choosing in the "open" dropdown does
    assert dash.tabs.selected_index == RESULT
    assert dash.result_id.value == chosen["result_id"]
    shown = dash.result_html.value
    assert html.escape(str(chosen["name"])) in shown and "FAILURE" in shown
    assert dash.table.pick.value is None  # ready to pick again


def test_show_result_by_prefix_and_related(dash: Dashboard, snapshot: Snapshot) -> None:
    results = snapshot.results
    parent = results[results["children_count"].fillna(0) > 0].iloc[0]
    dash.show_result(parent["result_id"][:8])
    assert dash.result_id.value == parent["result_id"]
    children = [value for _, value in dash.related.options if value is not None]
    assert children
    dash.related.value = children[0]
    assert dash.result_id.value == children[0]
    with pytest.raises(KeyError):
        dash.show_result("ffffffff-not-there")


# -- escaping and static HTML ----------------------------------------------------------
@pytest.fixture
def hostile(snapshot: Snapshot) -> Snapshot:
    results = snapshot.results.copy()
    names = results["name"].astype(object)
    names.iloc[:5] = SCRIPT
    kwargs = results["request_kwargs_repr"].astype(object)
    kwargs.iloc[:5] = '<img src=x onerror="alert(1)">'
    return with_frames(snapshot, results=results.assign(name=names, request_kwargs_repr=kwargs))


def test_hostile_names_are_escaped_everywhere(hostile: Snapshot) -> None:
    dash = Dashboard(hostile)
    dash.widget
    for index in range(len(TAB_TITLES)):
        dash.tabs.selected_index = index
    dash.set_filter(name=SCRIPT)
    assert len(body_rows(dash.table.html.value)) == 5
    dash.show_result(dash.table.filtered["result_id"].iloc[0])
    markup = [*all_markup(dash.widget), dash.to_html(), dash.to_html(charts=True),
              dash._repr_mimebundle_()["text/html"]]
    for text in markup:
        assert "<script" not in text.lower() and "<img src=x" not in text
    escaped = html.escape(SCRIPT)
    assert escaped in dash.table.html.value and escaped in dash.result_html.value
    assert dash.errors == []


def test_static_html(dash: Dashboard, snapshot: Snapshot) -> None:
    page = dash.to_html()
    assert "<script" not in page.lower()
    assert "Findings" in page
    for title in dash.findings()["title"]:
        assert html.escape(str(title)) in page
    assert "Memory by key kind" in page and "Keys without a TTL" in page
    assert dash._repr_html_() == page
    with_charts = dash.to_html(charts=True)
    assert with_charts.count('src="data:image/png;base64,') == 3
    assert "<script" not in with_charts.lower()


def test_mimebundle_offers_the_widget_and_static_html(dash: Dashboard) -> None:
    bundle = dash._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == \
        dash.widget.model_id
    assert bundle["text/html"] == dash.to_html()
    assert bundle["text/plain"].startswith("<Dashboard app='demo'")


def test_import_mognet_lab_does_not_import_ipywidgets() -> None:
    code = ("import sys, mognet_lab\n"
            "assert 'ipywidgets' not in sys.modules and 'IPython' not in sys.modules\n"
            "assert 'Dashboard' not in mognet_lab.__all__ and 'Dashboard' in dir(mognet_lab)\n"
            "mognet_lab.Dashboard\n"
            "assert 'ipywidgets' in sys.modules\n"
            "print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    assert mognet_lab.Dashboard is Dashboard


# -- refresh against a live demo -------------------------------------------------------
@pytest.fixture(scope="module")
def demo(demo_lab: Demo) -> Demo:
    return demo_lab


def test_refresh_rescans_the_attached_lab(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    scans: list[Any] = []
    scan = demo.lab.scan

    def counting_scan(**kwargs: Any) -> Snapshot:
        scans.append(kwargs)
        return scan(**kwargs)

    monkeypatch.setattr(demo.lab, "scan", counting_scan)
    dash = Dashboard(demo.lab, progress=False)
    assert len(scans) == 1 and dash.lab is demo.lab and dash.refresh_button is not None
    dash.widget
    first = dash.snapshot.provenance.scanned_at
    dash.set_filter(state="SUCCESS")
    dash.refresh_button.click()
    assert dash.errors == []
    assert len(scans) == 2 and scans[-1] == {"progress": False}
    assert dash.snapshot.provenance.scanned_at > first
    assert dash.table.state.value == "SUCCESS"  # still a valid state: kept
    assert dash.charts["memory_gauge"].draws == 2  # the tab shown was redrawn
    assert len(dash.charts["memory_gauge"].output.outputs) == 1
    assert not dash.refresh_button.disabled


def test_given_snapshot_is_shown_without_scanning(demo: Demo, snapshot: Snapshot,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo.lab, "scan", lambda **kwargs: pytest.fail("scanned"))
    dash = Dashboard(demo.lab, snapshot=snapshot)
    assert dash.snapshot is snapshot and dash.refresh_button is not None


def test_a_failing_refresh_shows_in_the_banner(demo: Demo, snapshot: Snapshot,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def down(**kwargs: Any) -> Snapshot:
        raise RedisUnavailable("Redis at demo is not answering: is it running?")

    dash = Dashboard(demo.lab, snapshot=snapshot)
    monkeypatch.setattr(demo.lab, "scan", down)
    dash.refresh_button.click()
    assert len(dash.errors) == 1
    assert dash.errors[0].startswith("Could not refresh: Redis at demo is not answering: is "
                                     "it running? The data below is from the scan at ")
    assert dash.snapshot is snapshot and not dash.refresh_button.disabled


# -- a large app -----------------------------------------------------------------------
def test_two_hundred_thousand_results_render_one_page() -> None:
    n, rng = 200_000, np.random.default_rng(7)
    scanned = datetime(2026, 11, 20, tzinfo=timezone.utc)
    results = pd.DataFrame({
        "result_id": [f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(n)],
        "name": rng.choice([f"app.tasks.task_{i}" for i in range(12)], n),
        "state": rng.choice(["SUCCESS", "FAILURE", "RUNNING"], n, p=[0.9, 0.07, 0.03]),
        "node_id": rng.choice(["w1", "w2", "w3"], n),
        "created": pd.Timestamp(scanned) - pd.to_timedelta(rng.integers(0, 7 * 86400, n),
                                                           unit="s"),
        "request_kwargs_repr": [f"order_id={i}" for i in range(n)],
        "total_memory_bytes": rng.integers(300, 5000, n),
    })
    big = Snapshot.from_frames(app="big", scanned_at=scanned, results=results)
    dash = Dashboard(big, page_size=PAGE)
    dash.set_filter(state="FAILURE", text="task_3")
    mask = (big.results["state"] == "FAILURE") & (big.results["name"] == "app.tasks.task_3")
    expected = newest_first(big.results[mask.to_numpy(dtype=bool)])
    assert len(expected) > PAGE
    rows = body_rows(dash.table.html.value)
    assert len(rows) == PAGE
    assert page_ids(dash.table.html.value) == expected["result_id"].head(PAGE).tolist()
    assert dash.table.label.value == (f"page 1 of {math.ceil(len(expected) / PAGE)} "
                                      f"({len(expected):,} results)")
