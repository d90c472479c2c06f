"""Dashboard defects a new user hit: Refresh with Redis gone, banner wording.

Refresh is run under a real IPython shell, as in a kernel: there an exception
escaping ``with output:`` is printed into the Output widget and swallowed.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from typing import Iterator

import matplotlib.pyplot as plt
import pytest
from IPython.core.interactiveshell import InteractiveShell

from mognet_lab import connect
from mognet_lab.format import NOT_READY_NAME
from mognet_lab.demo import Workload, write_workload
from mognet_lab.embedded import EmbeddedRedis
from mognet_lab.widgets import Dashboard
from mognet_lab.widgets.banner import banner_message
from mognet_lab.widgets.dashboard import RESULT, TASKS
from mognet_lab.widgets.table import OPENER_CLASS, ROWS_CLASS, TASKS_CLASS


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    """An IPython shell for this test only (get_ipython() returns it)."""
    ip = InteractiveShell.instance()
    try:
        yield ip
    finally:
        InteractiveShell.clear_instance()


def test_refresh_with_redis_stopped_says_what_to_do_and_keeps_the_data(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    server = EmbeddedRedis().start()
    try:
        write_workload(server, Workload(app="gone", results=40, seed=2))
        lab = connect(server.url, app="gone")
        dash = Dashboard(lab, progress=True)
        dash.widget
        before = dash.snapshot
        numbers = dash.numbers_html.value
    finally:
        server.stop()
    assert dash.refresh_button is not None
    dash.refresh_button.click()
    assert len(dash.errors) == 1, dash.errors
    message = dash.errors[0]
    assert message.startswith("Could not refresh: Cannot reach Redis at "
                              f"redis://127.0.0.1:{server.port}/0"), message
    assert f"scan at {before.provenance.scanned_at:%H:%M:%S} UTC" in message
    assert message.endswith("Check the server and press Refresh again.")
    shown = html.unescape(dash.error_banner.value)
    assert "Traceback" not in shown and "UnboundLocalError" not in shown
    assert dash.progress_output.outputs == ()  # no traceback pushed into the page
    assert "Traceback" not in capsys.readouterr().out
    assert dash.snapshot is before and dash.numbers_html.value == numbers
    assert not dash.refresh_button.disabled
    dash.tabs.selected_index = TASKS  # the next action clears the banner, old data works
    assert dash.errors == [] and len(dash.table.filtered) == 40


@pytest.mark.parametrize("exc, expected", [
    (KeyError("No result 'abc' in this snapshot"), "No result 'abc' in this snapshot"),
    (ValueError("bad things"), "bad things."),
    (RuntimeError(""), "no message."),
])
def test_banner_messages_never_start_with_a_class_name(exc: Exception, expected: str) -> None:
    message = banner_message(exc)
    assert message.startswith(expected)
    assert not message.startswith(type(exc).__name__)


def test_an_unknown_result_banner_has_no_class_name(demo_keyspace) -> None:
    dash = Dashboard(demo_keyspace)
    dash.result_id.value = "00000000-no-such-result"
    assert dash.errors and not dash.errors[0].startswith("KeyError")
    assert "KeyError:" not in dash.error_banner.value


# -- the Tasks table and the Result tab ------------------------------------------------
def test_tasks_rows_do_not_wrap_and_carry_their_id(demo_keyspace) -> None:
    dash = Dashboard(demo_keyspace)
    markup = dash.table.html.value
    rows = re.findall(r'<tr data-key="([^"]*)">', markup)
    assert rows == dash.table.current["result_id"].astype(str).tolist()
    assert f".{ROWS_CLASS} td, .{ROWS_CLASS} th {{white-space: nowrap;}}" in markup
    assert "text-overflow: ellipsis" in markup and 'onclick="' in markup
    assert "<script" not in markup  # a handler attribute, no script element
    arguments = re.findall(r'<td title="([^"]*)">([^<]*)</td>', markup)
    assert arguments and all(title == text for title, text in arguments)
    assert any(len(html.unescape(text)) > 0 for _, text in arguments)


@pytest.mark.skipif(shutil.which("node") is None, reason="node (to parse the handler) missing")
def test_the_row_click_handler_is_valid_javascript(demo_keyspace) -> None:
    markup = Dashboard(demo_keyspace).table.html.value
    handler = html.unescape(re.search(r'onclick="([^"]*)"', markup).group(1))
    assert "dataset.key" in handler and "new Event('change'" in handler
    # The handler run against stand-ins for the DOM objects it touches.
    script = """
    const seen = [];
    const input = {value: '', dispatchEvent: (e) => seen.push(e.type)};
    const box = {querySelector: (s) => s === '.%s input' ? input : null};
    const div = {closest: (s) => s === '.%s' ? box : null};
    const row = {dataset: {key: 'abc-123'}};
    const event = {target: {closest: (s) => s === 'tr[data-key]' ? row : null}};
    global.Event = class { constructor(type) { this.type = type; } };
    new Function('event', process.argv[1]).call(div, event);
    console.log(JSON.stringify([input.value, seen]));
    """ % (OPENER_CLASS, TASKS_CLASS)
    done = subprocess.run(["node", "-e", script, handler], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '["abc-123",["input","change"]]'


def test_clicking_a_row_opens_the_result(demo_keyspace) -> None:
    dash = Dashboard(demo_keyspace)
    dash.widget
    assert OPENER_CLASS in dash.table.opener._dom_classes
    assert TASKS_CLASS in dash.table.widget._dom_classes
    wanted = dash.table.current["result_id"].iloc[3]
    dash.table.opener.value = wanted  # what the row's click handler writes
    assert dash.tabs.selected_index == RESULT and dash.result_id.value == wanted
    assert dash.table.opener.value == "" and dash.errors == []
    dash.tabs.selected_index = TASKS
    dash.table.opener.value = wanted  # the same row again opens it again
    assert dash.tabs.selected_index == RESULT


def test_the_result_tab_shows_the_stored_value_on_request(demo_lab) -> None:
    dash = Dashboard(demo_lab.lab, progress=False)
    results = dash.snapshot.results
    done = results[results["state"].astype(str) == "SUCCESS"]["result_id"].iloc[0]
    values = dash.snapshot.values
    failed = values[values["is_exception"].fillna(False).astype(bool)
                    & (values["exception_name"].astype(str) != NOT_READY_NAME)
                    & (values["result_id"].isin(results["result_id"]))]["result_id"].iloc[0]
    assert dash.value_button.disabled  # nothing opened yet
    dash.show_result(done)
    assert not dash.value_button.disabled and dash.value_html.value == ""
    dash.value_button.click()
    shown = dash.value_html.value
    assert dash.errors == [] and done in html.unescape(shown) and "value" in shown
    dash.show_result(failed)
    assert dash.value_html.value == ""  # the previous result's value is gone
    dash.value_button.click()
    assert "not loaded" in dash.value_html.value  # the pickled exception is only measured


def test_a_snapshot_dashboard_cannot_read_values(demo_keyspace) -> None:
    dash = Dashboard(demo_keyspace)
    dash.show_result(demo_keyspace.results["result_id"].iloc[0])
    assert dash.value_button.disabled and "Dashboard(lab)" in dash.value_button.tooltip


def test_a_refresh_broken_by_a_defect_folds_its_traceback_away(demo_lab, demo_keyspace,
                                                                monkeypatch) -> None:
    def broken(**kwargs):
        raise RuntimeError("a bug in the scan")

    dash = Dashboard(demo_lab.lab, snapshot=demo_keyspace)
    monkeypatch.setattr(demo_lab.lab, "scan", broken)
    dash.refresh_button.click()
    assert dash.errors[0].startswith("Could not refresh: a bug in the scan. (an unexpected "
                                     "RuntimeError")
    assert "<details><summary>traceback</summary>" in dash.error_banner.value
    assert dash.errors[0].endswith("Press Refresh again.")
