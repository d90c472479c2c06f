"""The HTML report opened in a real headless browser (Debian's chromium).

Chromium is driven through its command line only (``--screenshot``,
``--dump-dom``), so no Python dependency is needed. To see what happened
inside the page, the tests render a temporary copy of the report with a
small test-only probe script injected into its ``<head>``: on ``load`` it
writes into ``document.title`` whether every image decoded, which errors
were thrown and whether the page overflows sideways; ``--dump-dom`` then
reads the title back. The report itself contains no JavaScript. Every host
name resolves to nothing (``--host-resolver-rules``), so an external
resource would show up as a broken image.

Set ``MOGNET_LAB_REPORT_SCREENSHOT=docs/images/report_screenshot.png`` to keep
the screenshot (that is how the README's image is made).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mognet_lab.report import Report
from mognet_lab.snapshot import Snapshot

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason="chromium not installed (apt-get install chromium); .ci/run installs it")

SECTION_TITLES = ["Summary", "Server", "Findings", "Memory", "TTL", "Values", "Tasks"]
WINDOW = (1280, 4000)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SCREENSHOT_ENV = "MOGNET_LAB_REPORT_SCREENSHOT"
# Test-only: reports what the page did into its title, which --dump-dom shows.
PROBE = """<script>
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
window.addEventListener('load', function () {
  var images = Array.prototype.slice.call(document.images);
  var bad = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                  .map(function (i) { return i.alt || i.src.slice(0, 40); });
  var titles = Array.prototype.map.call(document.querySelectorAll('section > h2'),
                                        function (h) { return h.textContent; });
  document.title = 'PROBE:' + JSON.stringify({
    images: images.length, bad: bad, errors: window.__errors, sections: titles,
    overflow: document.documentElement.scrollWidth - window.innerWidth});
});
</script>"""


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--hide-scrollbars",
               f"--user-data-dir={tmp / 'profile'}", "--enable-logging=stderr", "--v=0",
               "--host-resolver-rules=MAP * ~NOTFOUND",
               f"--window-size={WINDOW[0]},{WINDOW[1]}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def _probe(tmp: Path, page: str) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    """Open ``page`` with the probe injected; the probe's findings and the run."""
    probed = tmp / "probed.html"
    probed.write_text(page.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    run = _chromium(tmp, "--dump-dom", probed.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    found = re.search(r"<title>PROBE:(.*?)</title>", run.stdout, re.S)
    assert found, "the probe did not run: " + run.stdout[:500]
    return json.loads(html.unescape(found.group(1))), run


def _console(stderr: str) -> list[str]:
    """Console messages chromium logged (a page without JavaScript logs none)."""
    return [line for line in stderr.splitlines()
            if ":CONSOLE" in line or "Uncaught" in line]


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory,
                demo_keyspace: Snapshot) -> tuple[Path, str]:
    page = Report(demo_keyspace).to_html()
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(page, encoding="utf-8")
    return path, page


def test_the_probe_sees_broken_images_and_errors(tmp_path: Path) -> None:
    """The harness itself: a broken image, a remote one and a thrown error are all caught."""
    page = ('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
            '<img alt="broken" src="data:image/png;base64,AAAA">'
            '<img alt="remote" src="https://example.com/x.png">'
            '<script>throw new Error("boom");</script></body></html>')
    found, run = _probe(tmp_path, page)
    assert found["images"] == 2 and sorted(found["bad"]) == ["broken", "remote"]
    assert any("boom" in e for e in found["errors"])
    assert any("boom" in line for line in _console(run.stderr))


def test_report_renders_with_every_image_and_no_error(report_page, tmp_path: Path) -> None:
    _, page = report_page
    found, run = _probe(tmp_path, page)
    assert found["sections"] == SECTION_TITLES
    assert found["images"] == page.count("<img ") and found["images"] >= 10
    assert found["bad"] == [], f"images that did not load: {found['bad']}"
    assert found["errors"] == []
    assert _console(run.stderr) == []
    assert found["overflow"] <= 0, f"the page is {found['overflow']} px too wide at 1280 px"


def test_dumped_dom_holds_every_section_and_chart(report_page, tmp_path: Path) -> None:
    path, page = report_page
    run = _chromium(tmp_path, "--dump-dom", path.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    for title in SECTION_TITLES:
        assert f"<h2>{title}</h2>" in dom
    images = re.findall(r'<img [^>]*src="([^"]*)"', dom)
    assert len(images) == page.count("<img ")
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert "<script" not in dom
    assert _console(run.stderr) == []


def test_screenshot(report_page, tmp_path: Path) -> None:
    path, _ = report_page
    shot = tmp_path / "report.png"
    run = _chromium(tmp_path, f"--screenshot={shot}", path.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    size = (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big"))
    assert size == WINDOW
    # A blank or error page compresses to a few KiB; the report is text, tables and charts.
    assert len(data) > 200_000, f"screenshot suspiciously small: {len(data):,} bytes"
    keep = os.environ.get(SCREENSHOT_ENV)
    if keep:
        Path(keep).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, keep)
