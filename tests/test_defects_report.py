"""Report defects a new user hit: one listpack verdict, top findings with advice, the
biggest lever near the top, group labels explained, human column headers."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from anomaly_snapshots import healthy, healthy_server
from mognet_lab import analysis
from mognet_lab.report import Report
from mognet_lab.snapshot import Snapshot
from mognet_lab.views import dashboard_page, render_html, render_text, summary_page
from mognet_lab.views.cells import COLUMN_LABELS
from mognet_lab.views.pages import LABEL_NOTES, label_notes
from mognet_lab.views.report import WHAT_IF


def _listpack(snapshot: Snapshot) -> tuple[pd.Series, bool]:
    check = analysis.server_pressure(snapshot).set_index("check").loc["listpack_limits"]
    found = "listpack_overflow" in set(analysis.findings(snapshot)["code"].astype(str))
    return check, found


@pytest.mark.parametrize("overflowing, memory", [(0, 0), (1, 400), (12, 6000)])
def test_listpack_check_is_one_whole_sentence_agreeing_with_the_finding(
        overflowing: int, memory: int) -> None:
    space = healthy()
    for _ in range(overflowing):
        space.value(space.result("SUCCESS", value=None), encoding="hashtable",
                    memory=memory, stored=memory // 2)
    space.server = [healthy_server()]
    check, found = _listpack(space.snapshot())
    detail = str(check["detail"])
    assert detail.endswith(".") and not detail.endswith("are."), detail
    assert (check["status"] == "warn") == found == (overflowing == 12)
    if found:
        assert "see the listpack_overflow finding" in detail
        assert f"{overflowing} of this app's" in detail and "KiB" in detail
    elif overflowing:
        assert "so no finding" in detail


def test_the_demo_report_gives_one_listpack_verdict(demo_keyspace: Snapshot) -> None:
    check, found = _listpack(demo_keyspace)
    assert (check["status"] == "warn") == found
    assert str(check["detail"]).endswith(".")


@pytest.fixture(scope="module")
def markdown(demo_keyspace: Snapshot) -> str:
    return Report(demo_keyspace).to_markdown()


def _summary(markdown: str) -> str:
    return markdown.split("## Summary", 1)[1].split("\n## ", 1)[0]


def test_top_findings_carry_their_advice_and_point_to_the_rest(demo_keyspace: Snapshot,
                                                               markdown: str) -> None:
    found = analysis.findings(demo_keyspace)
    head = _summary(markdown)
    assert "| severity | title | measured | advice |" in head
    for advice in found["advice"].head(3):
        assert advice.replace("_", "\\_")[:60] in head
    assert "not shown" not in head
    if len(found) > 3:
        assert f"All {len(found)} findings, worst first, are in the Findings section." in head


def test_the_biggest_lever_is_in_the_summary(demo_keyspace: Snapshot, markdown: str) -> None:
    forecast = analysis.what_if(demo_keyspace, WHAT_IF)
    totals = forecast["total_bytes"].astype(float)
    best = (totals.iloc[0] - totals.iloc[1:]).idxmax()
    line = next(line for line in _summary(markdown).splitlines() if "biggest lever" in line)
    assert forecast["scenario"].iloc[best] in line and "less" in line


def test_the_labels_explained_are_the_analyses_labels() -> None:
    from mognet_lab.analysis import _common

    assert set(LABEL_NOTES) == {_common.MISSING, _common.NO_RESULT, _common.OTHER}


def test_group_labels_are_explained() -> None:
    frame = pd.DataFrame({"name": ["a.task", "(none)"], "state": ["SUCCESS", "(no result)"]})
    note = label_notes(frame, "name", "state")
    assert note is not None and note.startswith(LABEL_NOTES["(none)"])
    assert LABEL_NOTES["(no result)"] in note and "revoked" in note
    assert label_notes(frame.head(1), "name", "state") is None


def test_the_report_explains_none_wherever_a_table_shows_it(demo_keyspace: Snapshot,
                                                            markdown: str) -> None:
    by_task = analysis.memory_by(demo_keyspace, "name")
    shows_none = "(none)" in set(by_task["name"].astype(str).head(20))
    memory = markdown.split("### By task", 1)[1].split("###", 1)[0]
    assert (LABEL_NOTES["(none)"] in memory) == shows_none


def test_breakdowns_say_other_what(demo_keyspace: Snapshot) -> None:
    for text in analysis.findings(demo_keyspace)["measured"].astype(str):
        assert not re.search(r"\d other(,|;|$| \()", text), text


def _headers(markup: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", h))
            for h in re.findall(r"<th[^>]*>(.*?)</th>", markup)]


def test_views_show_human_column_labels(demo_keyspace: Snapshot) -> None:
    raw = set(COLUMN_LABELS) | {name.replace("_", " ") for name, label in
                                COLUMN_LABELS.items() if label != name.replace("_", " ")}
    shown = _headers(Report(demo_keyspace).to_html()) + _headers(
        render_html(dashboard_page(demo_keyspace)))
    assert "share of the app's memory" in shown and "stored size" in shown
    assert not raw & set(shown) - set(COLUMN_LABELS.values()), raw & set(shown)
    text = render_text(summary_page(demo_keyspace), repr_style=False)
    assert "share of app" not in text and "share_of_app" not in text
    facts = render_html(dashboard_page(demo_keyspace))
    assert "stored_bytes" not in facts and "raw_bytes" not in facts
