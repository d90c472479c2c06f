"""`mognet-lab metrics`: a Prometheus text exposition checked against the snapshot it shows."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families

from mognet_lab import analysis, connect
from mognet_lab.cli import main
from mognet_lab.keys import KEY_KINDS
from mognet_lab.metrics import metrics_text
from mognet_lab.snapshot import Snapshot
from mognet_writer import MognetWriter

# Task names are user data: quotes, a backslash, a line break, non-ASCII.
HOSTILE_TASK = 'jobs.send "mail"\\n\nnext \u00e9'


async def _write(url: str, app: str) -> None:
    async with MognetWriter(url, app) as w:
        for name, ok in ((HOSTILE_TASK, True), (HOSTILE_TASK, False), ("jobs.plain", True)):
            res = await w.submit(name, 1)
            await w.start(res)
            if ok:
                await w.complete(res, {"n": 1})
            else:
                await w.fail(res, ValueError("no"))
        await w.get_or_create((await w.submit("jobs.revoked")).id)  # placeholder, no TTL


@pytest.fixture
def scanned(redis_url: str, app_name: str) -> tuple[Snapshot, str]:
    asyncio.run(_write(redis_url, app_name))
    with connect(redis_url, app=app_name) as lab:
        return lab.scan(progress=False), redis_url


def _samples(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = \
                sample.value
    return found


def test_the_exposition_parses_and_matches_the_snapshot(scanned) -> None:
    snapshot, _ = scanned
    app = snapshot.app
    got = _samples(metrics_text(snapshot))
    keys = snapshot.keys
    for kind in KEY_KINDS:
        mine = keys[keys["kind"] == kind]
        label = (("app", app), ("kind", kind))
        assert got["mognet_lab_memory_bytes"][label] == mine["memory_bytes"].sum()
        assert got["mognet_lab_keys"][label] == len(mine)
    lasting = analysis.without_ttl(snapshot)
    assert sum(got["mognet_lab_keys_without_ttl"].values()) == len(lasting) > 0
    results = snapshot.results
    for (task, state), rows in results.groupby(["name", "state"], observed=True):
        label = (("app", app), ("state", state), ("task", task))
        assert got["mognet_lab_results"][label] == len(rows)
        assert got["mognet_lab_result_memory_bytes"][label] == rows["total_memory_bytes"].sum()
    assert (("app", app), ("state", "SUCCESS"), ("task", HOSTILE_TASK)) in \
        got["mognet_lab_results"]
    severities = analysis.findings(snapshot)["severity"].astype(str).value_counts()
    for severity in ("info", "warning", "critical"):
        assert got["mognet_lab_findings"][(("app", app), ("severity", severity))] == \
            severities.get(severity, 0)
    scan = {name: values[(("app", app),)] for name, values in got.items()
            if name.startswith("mognet_lab_scan_")}
    assert scan["mognet_lab_scan_complete"] == 1
    assert scan["mognet_lab_scan_keys_read"] == snapshot.provenance.keys_read
    assert scan["mognet_lab_scan_duration_seconds"] == pytest.approx(
        snapshot.provenance.duration_s)
    assert scan["mognet_lab_scan_timestamp_seconds"] == pytest.approx(
        pd.Timestamp(snapshot.provenance.scanned_at).timestamp())


def test_hostile_label_values_are_escaped(scanned) -> None:
    text = metrics_text(scanned[0])
    assert 'task="jobs.send \\"mail\\"\\\\n\\nnext \u00e9"' in text
    assert all(line.startswith(("#", "mognet_lab_")) for line in text.splitlines())


def test_the_command_writes_stdout_or_a_file(scanned, tmp_path: Path, capsys) -> None:
    snapshot, url = scanned
    assert main(["metrics", url, "--app", snapshot.app, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "mognet_lab_memory_bytes{" in out
    target = tmp_path / "app.prom"
    assert main(["metrics", url, "--app", snapshot.app, "--no-progress", "-o", str(target)]) == 0
    assert "mognet_lab_scan_complete" in target.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.prom"]  # no partial file left


def test_without_the_extra_the_message_names_it(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # import fails
    assert main(["metrics", "redis://127.0.0.1:1/0", "--app", "x", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "pip install 'mognet-lab[metrics]'" in err and "Traceback" not in err


def test_an_empty_snapshot_still_gives_every_series() -> None:
    snapshot = Snapshot.from_frames(app="empty", scanned_at=pd.Timestamp.now("UTC"))
    got = _samples(metrics_text(snapshot))
    assert len(got["mognet_lab_memory_bytes"]) == len(KEY_KINDS)
    assert set(got["mognet_lab_memory_bytes"].values()) == {0.0}
    assert "mognet_lab_results" not in got


def test_the_extra_is_declared_and_installed_with_the_tests() -> None:
    import tomllib

    extras = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())[
        "project"]["optional-dependencies"]
    assert extras["metrics"] == ["prometheus_client>=0.16"]
    assert "prometheus_client>=0.16" in extras["test"]
