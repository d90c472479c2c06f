"""Dashboard defects a new user hit: Refresh with Redis gone, banner wording.

Refresh is run under a real IPython shell, as in a kernel: there an exception
escaping ``with output:`` is printed into the Output widget and swallowed.
"""

from __future__ import annotations

import html
from typing import Iterator

import matplotlib.pyplot as plt
import pytest
from IPython.core.interactiveshell import InteractiveShell

from mognet_lab import connect
from mognet_lab.demo import Workload, write_workload
from mognet_lab.embedded import EmbeddedRedis
from mognet_lab.widgets import Dashboard
from mognet_lab.widgets.dashboard import TASKS, banner_message


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
