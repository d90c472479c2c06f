"""One presentation layer: the CLI summary, the report and the dashboard show the same numbers.

Every view renders pages built from the snapshot's one memo of analyses, so
the figures agree by construction; these tests read them back out of each
rendering (text, HTML, JSON) and compare them with each other and with
plain pandas on the frames.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from typing import Any

import pandas as pd
import pytest

from mognet_lab import analysis
from mognet_lab.report import Report
from mognet_lab.snapshot import Snapshot
from mognet_lab.units import format_bytes
from mognet_lab.views import summary_text
from mognet_lab.views.markdown import md_escape

HEADLINE = ("keys", "memory of the app's keys", "results", "share of Redis used_memory",
            "maxmemory", "keys without TTL", "errors")


def _text_fact(text: str, label: str) -> str:
    found = re.search(rf"^  {re.escape(label)}\s{{2,}}(.+)$", text, re.M)
    assert found, label
    return found.group(1).strip()


def _html_fact(markup: str, label: str) -> str:
    found = re.search(rf"<dt>{re.escape(html.escape(label))}</dt><dd>(.*?)</dd>", markup)
    assert found, label
    return html.unescape(found.group(1))


def _md_fact(markdown: str, label: str) -> str:
    found = re.search(rf"^- \*\*{re.escape(md_escape(label))}\*\*: (.+)$", markdown, re.M)
    assert found, label
    return found.group(1).replace("\\", "")


def _html_rows(markup: str, title: str) -> list[list[str]]:
    """The cells of every row of the first table after the heading ``title``."""
    start = markup.index(f">{html.escape(title)}</h")
    body = markup[start:].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = [[html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in
             re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    return rows


def _text_rows(text: str, title: str) -> list[list[str]]:
    block = text.split(f"\n{title}:\n", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    return [re.split(r"\s{2,}", line.strip()) for line in block]


@pytest.fixture(scope="module")
def views(demo_keyspace: Snapshot) -> dict[str, Any]:
    from mognet_lab.widgets import Dashboard  # needs ipywidgets

    report = Report(demo_keyspace)
    dash = Dashboard(demo_keyspace)
    dash.widget  # draws the Overview tab
    dash.tabs.selected_index = 1  # and the Memory tab
    dash.tabs.selected_index = 2  # and the TTL tab
    return {"cli": summary_text(demo_keyspace), "report": report.to_html(),
            "markdown": report.to_markdown(), "json": json.loads(report.to_json()),
            "dashboard": dash.numbers_html.value, "static": dash.to_html(),
            "states": dash.state_html.value, "never": dash.never_html.value,
            "repr": repr(demo_keyspace),
            "repr_html": demo_keyspace._repr_html_()}


def test_headline_numbers_are_identical_everywhere(views: dict[str, Any],
                                                   demo_keyspace: Snapshot) -> None:
    keys = demo_keyspace.keys
    for label in HEADLINE:
        shown = {"cli": _text_fact(views["cli"], label), "repr": _text_fact(views["repr"], label),
                 "markdown": _md_fact(views["markdown"], label)}
        shown.update({name: _html_fact(views[name], label)
                      for name in ("report", "dashboard", "static", "repr_html")})
        assert len(set(shown.values())) == 1, (label, shown)
    # ...and they are the frames' own numbers.
    assert _text_fact(views["cli"], "keys") == f"{len(keys):,}"
    assert _text_fact(views["cli"], "results") == f"{len(demo_keyspace.results):,}"
    assert _text_fact(views["cli"], "memory of the app's keys") == \
        format_bytes(keys["memory_bytes"].sum())
    no_ttl = keys[keys["ttl_s"].isna()]
    assert _text_fact(views["cli"], "keys without TTL") == \
        f"{len(no_ttl):,} ({format_bytes(no_ttl['memory_bytes'].sum())})"
    facts = views["json"]["sections"][0]["facts"]
    assert facts["keys"] == len(keys) and facts["results"] == len(demo_keyspace.results)


def test_results_by_state_are_identical_everywhere(views: dict[str, Any],
                                                   demo_keyspace: Snapshot) -> None:
    cli = _text_rows(views["cli"], "Results by state")
    dashboard = _html_rows(views["states"], "Memory by state")
    report = _html_rows(views["report"], "By result state")
    table = next(t for s in views["json"]["sections"] for t in s["tables"]
                 if t["key"] == "memory_by_state")
    counts = demo_keyspace.results["state"].astype(str).value_counts()
    assert cli and cli == dashboard == report
    by_state = {cells[0]: cells[1:] for cells in cli}
    for row in table["rows"]:
        state = row["state"]
        assert by_state[state][:3] == [f"{row['results']:,}", f"{row['keys']:,}",
                                  format_bytes(row["bytes"])]
        assert row["results"] == counts.get(state, 0)
    assert sum(row["results"] for row in table["rows"]) == len(demo_keyspace.results)


def test_keys_by_kind_are_identical_everywhere(views: dict[str, Any]) -> None:
    cli = _text_rows(views["cli"], "Memory by key kind")
    assert cli and cli == _html_rows(views["static"], "Memory by key kind") == \
        _html_rows(views["report"], "By key kind")


def test_keys_without_ttl_are_identical_everywhere(views: dict[str, Any],
                                                   demo_keyspace: Snapshot) -> None:
    cli = _text_rows(views["cli"], "Keys without TTL (they never expire)")
    dashboard = _html_rows(views["never"], "Keys without a TTL")
    report = _html_rows(views["report"], "Keys that never expire")
    assert cli and cli == dashboard == report
    keys = demo_keyspace.keys
    no_ttl = keys[keys["ttl_s"].isna()]
    assert sum(int(cells[2].replace(",", "")) for cells in cli) == len(no_ttl)
    figures = analysis.overview(demo_keyspace)
    assert figures["no_ttl_keys"] == len(no_ttl)
    assert figures["no_ttl_bytes"] == int(no_ttl["memory_bytes"].sum())


class _CountingCache(dict):  # type: ignore[type-arg]
    """A memo that counts how often each analysis result is stored."""

    def __init__(self) -> None:
        super().__init__()
        self.stored: Counter[Any] = Counter()

    def __setitem__(self, key: Any, value: Any) -> None:
        self.stored[key] += 1
        super().__setitem__(key, value)


def _counted(snapshot: Snapshot) -> tuple[Snapshot, _CountingCache]:
    fresh = Snapshot(dict(snapshot.frames), snapshot.provenance)
    cache = _CountingCache()
    object.__setattr__(fresh, "_cache", cache)  # a frozen dataclass: its memo is a field
    return fresh, cache


def _names(cache: _CountingCache) -> Counter[str]:
    return Counter(key[1] for key in cache.stored)


def test_one_report_runs_each_analysis_once(demo_keyspace: Snapshot) -> None:
    snapshot, cache = _counted(demo_keyspace)
    Report(snapshot).to_html()
    assert max(cache.stored.values()) == 1
    names = _names(cache)
    for name in ("server_pressure", "poorly_compressed", "listpack_overflow", "ttl_buckets",
                 "result_families", "findings", "without_ttl"):
        assert names[name] == 1, name
    before = dict(cache.stored)
    summary_text(snapshot)  # the CLI summary asks the same memo: nothing new
    snapshot._repr_html_()
    assert max(cache.stored.values()) == 1
    assert {k: v for k, v in cache.stored.items() if k in before} == before


def test_memo_hands_out_copies(demo_keyspace: Snapshot) -> None:
    snapshot, _cache = _counted(demo_keyspace)
    first = analysis.memory_by(snapshot, "kind")
    first["bytes"] = 0
    again = analysis.memory_by(snapshot, by="kind")
    assert (again["bytes"] > 0).all()
    pd.testing.assert_frame_equal(again, analysis.memory_by(
        Snapshot(dict(snapshot.frames), snapshot.provenance), "kind"))
