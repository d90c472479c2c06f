"""The report: one object, three renderings (HTML, Markdown, JSON), files, widget and CLI."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import snapshots
from mognet_lab.cli import EXIT_CODES, main
from mognet_lab.errors import BadOption
from mognet_lab.format import EXCEPTION_INFO_TYPE
from mognet_lab.report import REDACTED, Report, redact
from mognet_lab.views.markdown import md_escape
from mognet_lab.snapshot import Snapshot

SECTION_IDS = ["summary", "server", "findings", "memory", "ttl", "values", "tasks"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DATA_PNG = "data:image/png;base64,"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)

EVIL_NAME = "<script>alert(1)</script>"
EVIL_KWARGS = "<img src=x onerror=alert(1)>"
SECRET_KWARGS = "token='kwargs-secret-4d1e'"
SECRET_META = "meta-secret-7f3a"
SECRET_MESSAGE = "message-secret-9c2b | `code` <b>bold</b>"
SECRETS = ("kwargs-secret-4d1e", SECRET_META, "message-secret-9c2b")
PASSWORD = "s3cr3t-pw"
EXCEPTION_COLUMNS = ["exception_name", "values", "stored_bytes", "memory_bytes",
                     "example_message"]
CAPPED = {"memory_by_task", "memory_by_state", "largest_results", "never_expiring",
          "compression_by_task", "poorly_compressed", "exceptions", "largest_values",
          "listpack_overflow", "duration_percentiles"}
URL = f"redis://admin:{PASSWORD}@db.internal:6379/0"


# -- snapshots ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(demo_keyspace: Snapshot) -> Snapshot:
    return demo_keyspace


@pytest.fixture(scope="module")
def demo_report(demo: Snapshot) -> Report:
    return Report(demo)


def _rid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def hostile() -> Snapshot:
    """Task names, arguments, metadata and messages that try to become markup."""
    results = [
        {"result_id": _rid(1), "name": EVIL_NAME, "state": "SUCCESS",
         "request_kwargs_repr": EVIL_KWARGS, "created": T0 - timedelta(hours=2),
         "finished": T0 - timedelta(hours=1), "memory_bytes": 900, "value_memory_bytes": 5000,
         "total_memory_bytes": 6000, "ttl_s": 86400.0},
        {"result_id": _rid(2), "name": "app.tasks.secret", "state": "FAILURE",
         "request_kwargs_repr": SECRET_KWARGS, "created": T0 - timedelta(hours=3),
         "finished": T0 - timedelta(hours=2), "memory_bytes": 800, "value_memory_bytes": 700,
         "metadata_memory_bytes": 100, "total_memory_bytes": 1600, "ttl_s": 86400.0},
    ]
    values = [
        {"result_id": _rid(1), "value_type": "builtins:str", "encoding": "gzip",
         "stored_bytes": 4000, "raw_bytes": 9000, "compression_ratio": 2.25,
         "is_exception": False, "memory_bytes": 5000, "ttl_s": 3600.0},
        {"result_id": _rid(2), "value_type": EXCEPTION_INFO_TYPE, "encoding": "gzip",
         "stored_bytes": 500, "raw_bytes": 900, "compression_ratio": 1.8, "is_exception": True,
         "exception_name": "builtins:ValueError", "exception_message": SECRET_MESSAGE,
         "memory_bytes": 700, "ttl_s": 3600.0},
    ]
    keys = [{"key": f"app.mognet.result.{_rid(1)}", "kind": "result", "result_id": _rid(1),
             "memory_bytes": 900, "ttl_s": 86400.0},
            {"key": f"app.mognet.result.{_rid(1)}/value", "kind": "value",
             "result_id": _rid(1), "memory_bytes": 5000, "ttl_s": 3600.0},
            {"key": f"app.mognet.result.{_rid(2)}", "kind": "result", "result_id": _rid(2),
             "memory_bytes": 800, "ttl_s": 86400.0},
            {"key": f"app.mognet.result.{_rid(2)}/value", "kind": "value",
             "result_id": _rid(2), "memory_bytes": 700, "ttl_s": 3600.0},
            {"key": f"app.mognet.result.{_rid(2)}/metadata", "kind": "metadata",
             "result_id": _rid(2), "memory_bytes": 100, "ttl_s": 86400.0}]
    metadata = [{"result_id": _rid(2), "field_count": 1, "memory_bytes": 100,
                 "ttl_s": 86400.0, "owner": SECRET_META}]
    return Snapshot.from_frames(app="app", scanned_at=T0, url=URL, results=results,
                                values=values, keys=keys, metadata=metadata,
                                server=[snapshots.server()])


@pytest.fixture(scope="module")
def evil() -> Report:
    return Report(hostile())


@pytest.fixture(scope="module")
def evil_redacted() -> Report:
    return Report(hostile(), redact=True)


def big_snapshot(results: int = 50_000, seed: int = 0) -> Snapshot:
    """``4 * results`` keys (result, value, metadata, children per result), 60 task names."""
    rng = np.random.default_rng(seed)
    ids = [f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(results)]
    created = pd.Timestamp(T0) - pd.to_timedelta(rng.uniform(0, 20 * 86400, results), unit="s")
    duration = pd.to_timedelta(rng.exponential(30, results), unit="s")
    stored = rng.integers(100, 50_000, results)
    frame = pd.DataFrame({
        "result_id": ids, "name": [f"app.tasks.task_{i}" for i in rng.integers(0, 60, results)],
        "state": rng.choice(["SUCCESS", "FAILURE", "RUNNING"], results, p=[0.9, 0.07, 0.03]),
        "node_id": "worker-1", "created": created, "started": created, "duration": duration,
        "finished": created + duration, "request_kwargs_repr": [f"n={i}" for i in range(results)],
        "memory_bytes": 300, "ttl_s": 20 * 86400.0, "total_memory_bytes": stored + 680})
    values = pd.DataFrame({"result_id": ids, "value_type": "builtins:dict", "encoding": "gzip",
                           "stored_bytes": stored, "raw_bytes": stored * 3,
                           "compression_ratio": 3.0, "is_exception": False,
                           "memory_bytes": stored + 200, "ttl_s": 6 * 86400.0,
                           "redis_encoding": "hashtable"})
    kinds = {"result": 300, "value": None, "metadata": 100, "children": 80}
    keys = pd.concat([pd.DataFrame({
        "key": [f"app.mognet.result.{r}" + ("" if kind == "result" else f"/{kind}")
                for r in ids],
        "kind": kind, "result_id": ids,
        "memory_bytes": stored + 200 if size is None else size,
        "ttl_s": 6 * 86400.0 if kind == "value" else 20 * 86400.0})
        for kind, size in kinds.items()], ignore_index=True)
    metadata = pd.DataFrame({"result_id": ids, "field_count": 1, "memory_bytes": 100,
                             "ttl_s": 20 * 86400.0,
                             "tenant": [f"t{i % 97}" for i in range(results)]})
    return Snapshot.from_frames(app="app", scanned_at=T0, results=frame, values=values,
                                keys=keys, metadata=metadata,
                                server=[snapshots.server(used_memory=3 << 30,
                                                         maxmemory=4 << 30)])


# -- HTML structure -------------------------------------------------------------------------
class _Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def test_html_is_one_self_contained_page(demo_report: Report) -> None:
    page = demo_report.to_html()
    assert page.startswith("<!DOCTYPE html>")
    found = tags(page)
    names = {tag for tag, _ in found}
    assert not names & {"script", "link", "iframe", "object", "embed", "base"}
    for tag, attrs in found:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("src", "href"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith((DATA_PNG, "#")), (tag, name, value[:60])
    assert "@import" not in page and "url(" not in page


def test_every_image_is_an_embedded_png(demo_report: Report) -> None:
    images = [attrs for tag, attrs in tags(demo_report.to_html()) if tag == "img"]
    assert len(images) == sum(len(s.charts) for s in demo_report.data.sections) >= 10
    for attrs in images:
        src = attrs["src"] or ""
        assert src.startswith(DATA_PNG)
        png = base64.b64decode(src[len(DATA_PNG):], validate=True)
        assert png.startswith(PNG_SIGNATURE)
        assert attrs["width"] == str(int.from_bytes(png[16:20], "big"))
        assert attrs["alt"]


def test_sections_in_order_with_their_titles(demo_report: Report) -> None:
    page = demo_report.to_html()
    where = [page.index(f'<section id="{key}">') for key in SECTION_IDS]
    assert where == sorted(where)
    for title in ("Top 3 findings", "Server checks", "All findings, worst first", "By key kind",
                  "By task", "By result state", "Largest results", "Keys by remaining TTL",
                  "Keys that never expire", "All values", "Compression by task",
                  "Poorly compressed values", "Stored exceptions", "Largest values",
                  "Values too big for a listpack hash", "Queue and run times by task",
                  "Forecast and what-if"):
        assert title in page
    assert 'class="badge"' in page  # severities and statuses
    assert "Assumptions:" in page


def test_summary_states_the_headline_numbers(demo: Snapshot, demo_report: Report) -> None:
    facts = {f.label: f.value for f in demo_report.data.sections[0].facts}
    assert facts["app"] == "demo"
    assert facts["keys"] == len(demo.keys)
    assert facts["results"] == len(demo.results)
    assert facts["memory of the app's keys"] == int(demo.keys["memory_bytes"].sum())
    assert 0 < facts["share of Redis used_memory"] <= 1


def test_footer_names_version_scan_and_censored_url(evil: Report) -> None:
    page, markdown, text = evil.to_html(), evil.to_markdown(), evil.to_json()
    censored = "redis://admin:***@db.internal:6379/0"
    footer = page[page.index("<footer>"):]
    for label in ("generated", "mognet_lab version", "Redis URL", "scan settings",
                  "scan duration", "scan complete"):
        assert label in footer
    assert censored in footer and "batch 1000, limit none" in footer
    assert censored.replace("*", "\\*") in markdown  # Markdown escapes the stars
    assert json.loads(text)["provenance"]["url"] == censored
    for output in (page, markdown, text):
        assert PASSWORD not in output


def test_cut_tables_say_how_many_rows_they_left_out(demo: Snapshot) -> None:
    report = Report(demo, top=5)
    memory = next(s for s in report.data.sections if s.key == "memory")
    largest = next(t for t in memory.tables if t.key == "largest_results")
    assert len(largest.frame) == 5 and largest.total_rows == len(demo.results)
    note = f"+ {len(demo.results) - 5:,} more rows not shown"
    assert note in report.to_html() and note in report.to_markdown()
    tables = [t for s in json.loads(report.to_json())["sections"] for t in s["tables"]]
    cut = next(t for t in tables if t["key"] == "largest_results")
    assert cut["not_shown"] == len(demo.results) - 5 and len(cut["rows"]) == 5
    assert CAPPED <= {t["key"] for t in tables}
    assert all(len(t["rows"]) <= 5 for t in tables if t["key"] in CAPPED)


# -- escaping and redaction -----------------------------------------------------------------
def test_strings_from_redis_cannot_become_html(evil: Report) -> None:
    page = evil.to_html()
    assert "<script" not in page.lower()
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    images = [attrs for tag, attrs in tags(page) if tag == "img"]
    assert all((attrs["src"] or "").startswith(DATA_PNG) for attrs in images)


def test_strings_from_redis_cannot_become_markdown(evil: Report) -> None:
    markdown = evil.to_markdown()
    assert "<script" not in markdown and "<img" not in markdown and "<b>" not in markdown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markdown
    assert "&lt;img src=x onerror=alert(1)&gt;" in markdown
    # A pipe or backtick in a message cannot break the table or open a code span.
    assert "message-secret-9c2b \\| \\`code\\`" in markdown
    row = next(line for line in markdown.splitlines()
               if line.startswith("| builtins:ValueError"))
    assert len(re.findall(r"(?<!\\)\|", row)) == len(EXCEPTION_COLUMNS) + 1


def test_redaction_hides_arguments_metadata_and_messages_everywhere(
        evil: Report, evil_redacted: Report) -> None:
    plain, hidden = evil, evil_redacted
    for render in ("to_html", "to_markdown", "to_json"):
        shown, redacted = getattr(plain, render)(), getattr(hidden, render)()
        for secret in SECRETS:
            assert secret in shown, (render, secret)
            assert secret not in redacted, (render, secret)
        assert (md_escape(REDACTED) if render == "to_markdown" else REDACTED) in redacted
    assert json.loads(hidden.to_json())["redacted"] is True


def test_redact_copies_and_leaves_names_and_sizes() -> None:
    original = hostile()
    hidden = redact(original)
    assert original.results["request_kwargs_repr"].tolist() == [EVIL_KWARGS, SECRET_KWARGS]
    assert hidden.results["request_kwargs_repr"].tolist() == [REDACTED, REDACTED]
    assert hidden.values["exception_message"].dropna().tolist() == [REDACTED]
    assert hidden.metadata["owner"].tolist() == [REDACTED]
    assert hidden.results["name"].tolist() == original.results["name"].tolist()
    assert hidden.values["exception_name"].tolist() == original.values["exception_name"].tolist()
    pd.testing.assert_frame_equal(hidden.keys, original.keys)
    assert hidden.results["request_kwargs_repr"].dtype == original.results[
        "request_kwargs_repr"].dtype
    assert hidden.provenance == original.provenance


# -- formats and files ----------------------------------------------------------------------
def test_json_has_every_table_findings_and_provenance(demo: Snapshot,
                                                      demo_report: Report) -> None:
    document = json.loads(demo_report.to_json())
    assert document["format"] == "mognet_lab.report"
    assert [s["key"] for s in document["sections"]] == SECTION_IDS
    assert len(document["findings"]) == len(demo_report.data.findings) > 0
    assert document["provenance"]["app"] == "demo"
    assert document["provenance"]["keys_read"] == len(demo.keys)
    by_kind = next(t for s in document["sections"] for t in s["tables"]
                   if t["key"] == "memory_by_kind")
    assert sum(row["bytes"] for row in by_kind["rows"]) == int(demo.keys["memory_bytes"].sum())
    assert {"columns", "rows", "total_rows", "not_shown"} <= set(by_kind)


@pytest.mark.parametrize("suffix, check", [
    (".html", lambda text: text.startswith("<!DOCTYPE html>")),
    (".md", lambda text: text.startswith("# Mognet memory report: app")),
    (".json", lambda text: json.loads(text)["app"] == "app"),
])
def test_to_file_writes_the_format_its_suffix_names(evil: Report, tmp_path: Path,
                                                    suffix: str, check: Any) -> None:
    written = evil.to_file(tmp_path / f"report{suffix}")
    assert written == tmp_path / f"report{suffix}"
    assert check(written.read_text(encoding="utf-8"))


def test_to_file_refuses_other_suffixes(evil: Report, tmp_path: Path) -> None:
    with pytest.raises(BadOption, match=r"\.html, \.md, \.json"):
        evil.to_file(tmp_path / "report.pdf")
    assert not (tmp_path / "report.pdf").exists()


def test_to_file_in_a_missing_directory_is_a_bad_option(evil: Report, tmp_path: Path) -> None:
    with pytest.raises(BadOption, match="does not exist"):
        evil.to_file(tmp_path / "missing" / "report.html")



@pytest.mark.parametrize("options", [{"top": 0}, {"top": "5"}, {"redact": "yes"},
                                     {"title": 3}])
def test_bad_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(BadOption):
        Report(hostile(), **options)


def test_title_is_used_and_escaped() -> None:
    report = Report(hostile(), title="Weekly <review>")
    assert "<title>Weekly &lt;review&gt;</title>" in report.to_html()
    assert report.to_markdown().startswith("# Weekly &lt;review&gt;")


@pytest.mark.parametrize("make", [snapshots.empty, snapshots.all_na, snapshots.basic])
def test_small_and_empty_snapshots_render(make: Any) -> None:
    report = Report(make())
    page = report.to_html()
    for key in SECTION_IDS:
        assert f'<section id="{key}">' in page
    assert report.to_markdown() and json.loads(report.to_json())


@pytest.mark.slow
def test_a_large_snapshot_gives_a_small_report() -> None:
    snapshot = big_snapshot()
    assert len(snapshot.keys) == 200_000
    report = Report(snapshot)
    page = report.to_html()
    assert len(page.encode()) < 5_000_000
    assert len(report.to_markdown().encode()) < 500_000
    assert len(report.to_json().encode()) < 1_000_000
    for section in report.data.sections:
        for table in section.tables:
            assert len(table.frame) <= 60, table.key  # top N, or short by nature
    assert "+ 49,980 more rows not shown" in page  # largest results: 50,000 - 20


# -- notebook -------------------------------------------------------------------------------
def test_repr_html_returns_markup_and_prints_nothing(demo_report: Report, capsys) -> None:
    markup = demo_report._repr_html_()
    assert capsys.readouterr() == ("", "")
    assert markup.startswith('<div class="mlr"><style>') and "<!DOCTYPE" not in markup
    assert "<html" not in markup and "<body" not in markup


def test_repr_is_informative(demo_report: Report) -> None:
    text = repr(demo_report)
    assert "demo" in text and "keys" in text and "to_html()" in text


def test_to_widget_holds_the_report(demo_report: Report) -> None:
    widget = demo_report.to_widget()
    assert type(widget).__name__ == "HTML"
    assert widget.value == demo_report._repr_html_()


def test_importing_and_text_renderings_load_no_plotting_or_widgets() -> None:
    code = (
        "import sys\n"
        "from mognet_lab.report import Report\n"
        "assert not {'matplotlib', 'ipywidgets', 'IPython'} & set(sys.modules), 'import'\n"
        "sys.path.insert(0, 'tests')\n"
        "import snapshots\n"
        "report = Report(snapshots.basic())\n"
        "report.to_markdown(); report.to_json()\n"
        "assert 'matplotlib' not in sys.modules, 'text renderings'\n"
        "report.to_html()\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'charts used pyplot'\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).parent.parent, check=False)
    assert run.returncode == 0, run.stderr


# -- command line ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workload_app(demo_workload: tuple[str, str]) -> str:
    return demo_workload[1]


def test_cli_report_scans_and_writes_html(redis_url: str, workload_app: str,
                                          tmp_path: Path, capsys) -> None:
    target = tmp_path / "report.html"
    assert main(["report", redis_url, "--app", workload_app, "-o", str(target),
                 "--no-progress", "--title", "Nightly"]) == EXIT_CODES["ok"]
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<title>Nightly</title>" in page
    assert "wrote" in capsys.readouterr().err


def test_cli_report_redacted_json(redis_url: str, workload_app: str, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    assert main(["report", redis_url, "--app", workload_app, "-o", str(target), "--redact",
                 "--no-progress"]) == 0
    assert json.loads(target.read_text(encoding="utf-8"))["redacted"] is True


def test_cli_report_from_a_saved_snapshot(tmp_path: Path) -> None:
    saved = hostile().save(tmp_path / "snap.mognetlab")
    target = tmp_path / "report.md"
    assert main(["report", "--snapshot", str(saved), "-o", str(target)]) == 0
    assert "&lt;script&gt;" in target.read_text(encoding="utf-8")


@pytest.mark.parametrize("argv", [
    ["report", "--snapshot", "x", "-o", "report.pdf"],
    ["report", "-o", "report.html"],
    ["report", "redis://localhost:1/0", "-o", "report.html"],
    ["report", "redis://localhost:1/0", "--app", "a", "--snapshot", "x", "-o", "r.html"],
])
def test_cli_report_usage_errors(argv: list[str], capsys) -> None:
    assert main(argv) == EXIT_CODES["usage"]
    assert "mognet-lab:" in capsys.readouterr().err


def _shrunk(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` a little later: one task's results (and their keys) gone."""
    gone = set(snapshot.results.loc[snapshot.results["name"] == "demo.tasks.send_email",
                                    "result_id"])
    keys = snapshot.keys[~snapshot.keys["result_id"].isin(gone)].reset_index(drop=True)
    results = snapshot.results[~snapshot.results["result_id"].isin(gone)].reset_index(drop=True)
    later = pd.Timestamp(snapshot.provenance.scanned_at) + pd.Timedelta(hours=1)
    return Snapshot.from_frames(app=snapshot.app, scanned_at=later.to_pydatetime(),
                                results=results, keys=keys, values=snapshot.values,
                                server=snapshot.server)


def test_cli_compare_prints_deltas_and_writes_them(demo: Snapshot, tmp_path: Path,
                                                   capsys) -> None:
    old = demo.save(tmp_path / "old.mognetlab")
    new = _shrunk(demo).save(tmp_path / "new.mognetlab")
    gone = int((demo.results["name"] == "demo.tasks.send_email").sum())
    assert main(["compare", str(old), str(new), "-o", str(tmp_path / "d.json")]) == 0
    out = capsys.readouterr().out
    assert "By key kind" in out and "By task" in out
    assert "demo.tasks.send_email" in out and f"-{gone}" in out
    document = json.loads((tmp_path / "d.json").read_text(encoding="utf-8"))
    task = next(r for r in document["by_task"] if r["name"] == "demo.tasks.send_email")
    assert task["delta_results"] == -gone and document["summary"]["delta_keys"] < 0
    assert main(["compare", str(old), str(new), "-o", str(tmp_path / "d.csv")]) == 0
    table = pd.read_csv(tmp_path / "d.csv")
    assert set(table["table"]) == {"by_kind", "by_task", "by_state"}
    assert {"group", "count_old", "count_new", "delta_count", "delta_bytes"} <= set(table)


def test_cli_compare_refuses_bad_output_and_missing_snapshots(tmp_path: Path) -> None:
    assert main(["compare", "a", "b", "-o", str(tmp_path / "d.xlsx")]) == EXIT_CODES["usage"]
    assert main(["compare", str(tmp_path / "nope"), str(tmp_path / "nope2")]) == \
        EXIT_CODES["error"]
