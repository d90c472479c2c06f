"""`mognet-lab findings`: every finding, as text, json or csv, and --fail-on for alerting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pandas as pd
import pytest
import redis

from mognet_lab import analysis, connect
from mognet_lab.cli import EXIT_CODES, main
from mognet_lab.cli_ops import FINDINGS_EXIT
from mognet_lab.demo import Workload, write_workload
from mognet_lab.embedded import EmbeddedRedis
from mognet_lab.snapshot import Snapshot

COLUMNS = ["severity", "code", "title", "measured", "keys", "bytes", "advice"]


def _scan(url: str, app: str) -> Snapshot:
    with connect(url, app=app) as lab:
        return lab.scan(progress=False)


@pytest.fixture(scope="module")
def expected(demo_workload: tuple[str, str]) -> pd.DataFrame:
    table = analysis.findings(_scan(*demo_workload))
    assert len(table) > 5  # more than the top 5 the summaries show
    return table


@pytest.fixture(scope="module")
def nearly_full() -> Iterator[tuple[str, str]]:
    """A server of its own whose maxmemory is barely above what it uses: a critical finding."""
    server = EmbeddedRedis().start()
    try:
        write_workload(server, Workload(app="full", results=40, seed=5))
        client = redis.Redis.from_url(server.url)
        used = int(client.info("memory")["used_memory"])
        client.config_set("maxmemory", str(int(used / 0.95)))
        client.close()
        yield server.url, "full"
    finally:
        server.stop()


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_text_lists_every_finding_with_its_numbers_and_advice(
        demo_workload, expected, capsys) -> None:
    code, out = _run(capsys, "findings", *demo_workload[:1], "--app", demo_workload[1],
                     "--no-progress")
    assert code == 0
    for row in expected.itertuples():
        assert f"[{row.code}]" in out and row.title in out and row.advice in out
        # The server's used_memory moves between two scans; the app's own numbers do not.
        assert pd.isna(row.keys) or row.measured in out
    assert out.rstrip().endswith(f"{len(expected)} findings: " + ", ".join(
        f"{n} {s}" for s, n in expected["severity"].value_counts()[
            ["critical", "warning", "info"]].items() if n))


def test_json_is_a_list_of_objects_with_the_columns_of_findings(
        demo_workload, expected, capsys) -> None:
    url, app = demo_workload
    code, out = _run(capsys, "findings", url, "--app", app, "--no-progress", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert isinstance(rows, list) and len(rows) == len(expected)
    assert all(list(row) == COLUMNS for row in rows)
    for row, want in zip(rows, expected.itertuples()):
        assert row["code"] == want.code and row["severity"] == want.severity
        assert row["keys"] == (None if pd.isna(want.keys) else int(want.keys))
        if not pd.isna(want.keys):  # server findings: used_memory moves between scans
            assert row["bytes"] == (None if pd.isna(want.bytes) else int(want.bytes))


def test_csv_has_the_columns_of_findings(demo_workload, expected, tmp_path: Path) -> None:
    url, app = demo_workload
    target = tmp_path / "findings.csv"
    assert main(["findings", url, "--app", app, "--no-progress", "-o", str(target)]) == 0
    table = pd.read_csv(target)
    assert list(table.columns) == COLUMNS
    assert list(table["code"]) == list(expected["code"])
    app_level = expected["keys"].notna().to_numpy()
    assert list(table["bytes"].fillna(-1).astype(int)[app_level]) == \
        list(expected["bytes"].fillna(-1).astype(int)[app_level])


def test_fail_on_returns_its_own_exit_code_at_or_above_the_severity(
        demo_workload, expected, nearly_full, capsys) -> None:
    assert EXIT_CODES["findings"] == FINDINGS_EXIT == 7
    assert FINDINGS_EXIT not in {v for k, v in EXIT_CODES.items() if k != "findings"}
    url, app = demo_workload
    assert "critical" not in set(expected["severity"]) and "warning" in set(expected["severity"])
    assert _run(capsys, "findings", url, "--app", app, "--no-progress",
                "--fail-on", "warning")[0] == 7
    assert _run(capsys, "findings", url, "--app", app, "--no-progress",
                "--fail-on", "critical")[0] == 0
    code, out = _run(capsys, "findings", *nearly_full[:1], "--app", nearly_full[1],
                     "--no-progress", "--fail-on", "critical")
    assert code == 7 and out.startswith("CRITICAL")


def test_a_bad_output_path_fails_before_the_scan(tmp_path: Path, capsys) -> None:
    # Nothing listens on port 1: exit 2 (usage) rather than 3 proves no scan was tried.
    missing = tmp_path / "missing" / "f.json"
    assert main(["findings", "redis://127.0.0.1:1/0", "--app", "x", "-o", str(missing)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["findings", "redis://127.0.0.1:1/0", "--app", "x", "-o", str(tmp_path)]) == 2


def test_an_unreachable_redis_is_one_line_and_exit_3(capsys) -> None:
    assert main(["findings", "redis://127.0.0.1:1/0", "--app", "x", "--no-progress"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("mognet-lab: ") and "Traceback" not in err


@pytest.mark.parametrize("command", ["findings", "cleanup-plan", "metrics"])
def test_each_new_command_has_help_with_examples(command: str, capsys) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"mognet-lab {command} redis://" in out


def test_the_text_of_no_findings_says_so() -> None:
    from mognet_lab.cli_ops import findings_text

    empty = analysis.findings(Snapshot.from_frames(app="x", scanned_at=pd.Timestamp.now("UTC")))
    assert findings_text(empty.iloc[0:0]) == "No findings: nothing needs attention.\n"


def test_an_unwritable_output_is_one_line(demo_workload, tmp_path: Path, capsys) -> None:
    url, app = demo_workload
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / ".f.json.partial").mkdir()  # the temporary name is taken: the write fails
    assert main(["findings", url, "--app", app, "--no-progress", "-o",
                 str(locked / "f.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mognet-lab: cannot write") and "Traceback" not in err
