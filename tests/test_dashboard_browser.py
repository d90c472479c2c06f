"""The live dashboard in a real browser: voila serves a notebook that shows it, headless
chromium (Debian's) opens the page over the DevTools protocol.

It checks what a user does: the tabs draw, a click on a Tasks row opens that result,
the Result tab shows the stored value on request, and Refresh with the Redis server
stopped shows the banner (what happened, what to do) with no traceback in the page and
no error in the browser's console.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from browser import Browser, click
from mognet_lab.demo import Workload, write_workload
from mognet_lab.embedded import EmbeddedRedis

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
APP = "browser_app"
# voila's page template links Font Awesome from a CDN; machines without internet (and
# this test's browser, which resolves no host name) cannot load it. Nothing of the
# dashboard's comes from outside the page.
VOILA_FONTS = "https://cdn.jsdelivr.net/npm/@fortawesome/"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason="chromium not installed (apt-get install chromium)"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _notebook(path: Path, url: str) -> None:
    source = ("import mognet_lab\n"
              f"lab = mognet_lab.connect({url!r}, app={APP!r})\n"
              "dash = mognet_lab.Dashboard(lab)\n"
              "dash")
    book = {"cells": [{"cell_type": "code", "execution_count": None, "id": "dash",
                       "metadata": {}, "outputs": [], "source": source}],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(book), encoding="utf-8")


def _wait_http(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"voila exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("voila did not answer")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, EmbeddedRedis]]:
    """``(page URL, the Redis it scans)``: voila serving a notebook showing the dashboard."""
    pytest.importorskip("voila", reason="needs voila (pip install -e .[test])")
    server = EmbeddedRedis().start()
    write_workload(server, Workload(app=APP, results=60, seed=4))
    notebook = tmp_path / "dashboard.ipynb"
    _notebook(notebook, server.url)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    voila = subprocess.Popen(
        [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}",
         "--Voila.ip=127.0.0.1", "--show_tracebacks=True"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_http(url, voila)
        yield url, server
    finally:
        voila.terminate()
        try:
            voila.wait(timeout=20)
        except subprocess.TimeoutExpired:
            voila.kill()
        server.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    opened = Browser(CHROMIUM, tmp_path / "profile")
    try:
        yield opened
    finally:
        opened.close()


def _tab(title: str) -> str:
    return ("[...document.querySelectorAll('.lm-TabBar-tab, .p-TabBar-tab')]"
            f".find(t => t.textContent.trim() === {title!r})")


def _button(text: str) -> str:
    return ("[...document.querySelectorAll('button')]"
            f".find(b => b.textContent.trim() === {text!r} && !b.disabled)")


def test_the_dashboard_in_a_browser(served: tuple[str, EmbeddedRedis],
                                    browser: Browser) -> None:
    url, server = served
    browser.open(url)
    browser.wait_for(f"!!{_tab('Overview')}", timeout_s=120)
    browser.wait_for("document.body.innerText.includes('Mognet app')")

    click(browser, _tab("Tasks"))
    done_row = ("[...document.querySelectorAll('tr[data-key]')]"
                ".find(r => r.offsetParent && r.innerText.includes('SUCCESS'))")
    first = browser.wait_for(f"(() => {{ const r = {done_row}; return r && r.dataset.key; }})()")
    heights = browser.evaluate("[...document.querySelectorAll('tr[data-key]')]"
                               ".map(r => r.getBoundingClientRect().height)")
    assert heights and max(heights) < 40, heights  # one line per row, nothing wraps
    click(browser, done_row)
    browser.wait_for(f"document.body.innerText.includes('Result {first}')")

    click(browser, _button("Show the stored value"))
    browser.wait_for(f"document.body.innerText.includes('Value of result {first}')")
    assert browser.evaluate("document.body.innerText.includes('Contents')")

    server.stop()  # Redis goes away under the open dashboard
    click(browser, _button("Refresh"))
    banner = browser.wait_for("(() => { const t = document.body.innerText;"
                              " const i = t.indexOf('Could not refresh');"
                              " return i < 0 ? null : t.slice(i, i + 400); })()",
                              timeout_s=60)
    assert "Cannot reach Redis" in banner and "press Refresh again" in banner
    page = browser.evaluate("document.body.innerText")
    assert "Traceback" not in page and "UnboundLocalError" not in page
    assert browser.evaluate(f"!!{_button('Refresh')}")  # enabled again
    assert [e for e in browser.errors if VOILA_FONTS not in e] == []
