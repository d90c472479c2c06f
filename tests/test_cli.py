"""The mognet-lab command, run in-process through main(argv)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mognet_lab.cli import EXIT_CODES, main
from mognet_lab.embedded import EmbeddedRedis


@pytest.fixture(scope="module")
def demo_app(demo_workload: tuple[str, str]) -> tuple[str, str]:
    return demo_workload


def test_apps_lists_the_app_with_its_key_count(demo_app, capsys) -> None:
    url, app = demo_app
    assert main(["apps", url]) == 0
    out = capsys.readouterr().out
    assert app in out and "results" in out


def test_scan_prints_a_summary(demo_app, capsys) -> None:
    url, app = demo_app
    assert main(["scan", url, "--app", app, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "Results by state" in out and "Memory by key kind" in out


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_scan_exports_a_frame(demo_app, tmp_path: Path, fmt: str) -> None:
    url, app = demo_app
    target = tmp_path / f"values.{fmt}"
    assert main(["scan", url, "--app", app, "--frame", "values", "-o", str(target),
                 "--no-progress"]) == 0
    if fmt == "csv":
        frame = pd.read_csv(target)
    elif fmt == "json":
        frame = pd.DataFrame([json.loads(line) for line in target.read_text().splitlines()])
    else:
        frame = pd.read_parquet(target)
    assert "compression_ratio" in frame.columns and len(frame) > 0


def test_scan_all_frames_into_a_directory(demo_app, tmp_path: Path) -> None:
    url, app = demo_app
    assert main(["scan", url, "--app", app, "--frame", "all", "--format", "csv",
                 "-o", str(tmp_path / "out"), "--no-progress"]) == 0
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted(f"{n}.csv" for n in
                             ["results", "values", "keys", "children", "metadata", "states",
                              "server"])


def test_scan_csv_to_stdout(demo_app, capsys) -> None:
    url, app = demo_app
    assert main(["scan", url, "--app", app, "--frame", "keys", "--format", "csv",
                 "--no-progress"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header.startswith("key,kind,result_id")


def test_unknown_app_exits_5_and_names_the_apps(demo_app, capsys) -> None:
    url, app = demo_app
    assert main(["scan", url, "--app", "no_such_app", "--no-progress"]) == EXIT_CODES["no_app"]
    err = capsys.readouterr().err
    assert app in err and err.count("\n") == 1


def test_unreachable_redis_exits_3_without_the_password(capsys) -> None:
    code = main(["apps", "redis://user:hunter2@127.0.0.1:1/0"])
    assert code == EXIT_CODES["unreachable"]
    err = capsys.readouterr().err
    assert "hunter2" not in err and "***" in err


def test_wrong_password_exits_4(capsys) -> None:
    with EmbeddedRedis(password="right") as server:
        url = f"redis://:Zq9-not-it@127.0.0.1:{server.port}/0"
        assert main(["apps", url]) == EXIT_CODES["denied"]
    assert "Zq9-not-it" not in capsys.readouterr().err


def test_not_a_redis_url_is_a_usage_error(capsys) -> None:
    assert main(["apps", "http://example.com"]) == EXIT_CODES["usage"]
    assert "not a Redis URL" in capsys.readouterr().err


def test_bad_export_suffix_is_a_usage_error(demo_app, tmp_path: Path, capsys) -> None:
    url, app = demo_app
    code = main(["scan", url, "--app", app, "-o", str(tmp_path / "x.xlsx"), "--no-progress"])
    assert code == EXIT_CODES["usage"]


def test_missing_arguments_exit_2(capsys) -> None:
    assert main(["scan"]) == 2
    assert main([]) == 2


def test_demo_command_prints_the_summary(capsys) -> None:
    assert main(["demo", "--results", "40", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "Mognet app 'demo'" in out and "Keys without TTL" in out


def test_scan_save_then_compare_and_report(demo_app, tmp_path: Path, capsys) -> None:
    url, app = demo_app
    for name in ("before", "after"):
        assert main(["scan", url, "--app", app, "--save", str(tmp_path / name),
                     "--no-progress"]) == 0
    assert (tmp_path / "before" / "provenance.json").exists()
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "before"), str(tmp_path / "after")]) == 0
    assert "value" in capsys.readouterr().out
    assert main(["report", "--snapshot", str(tmp_path / "after"), "-o",
                 str(tmp_path / "r.md")]) == 0
    assert (tmp_path / "r.md").read_text().startswith("#")


BAD_URLS = [
    ("redis://u:Pw7secret@h:notaport/0", "port 'notaport'"),
    ("redis://u:Pw7secret@h:99999/0", "port '99999'"),
    ("redis://u:Pw7secret@h:6379/0?socket_timeout=abc", "socket_timeout='abc'"),
    ("redis://u:Pw7secret@h:6379/0?socket_connect_timeout=-1", "socket_connect_timeout"),
    ("redis://u:Pw7secret@h:6379/0?db=x", "db='x'"),
    ("redis://u:Pw7secret@h:6379/0?max_connections=1.5", "max_connections"),
    ("redis://u:Pw7secret@h:6379/abc", "database 'abc'"),
    ("redis://u:Pw7secret@[::1/0", "cannot be parsed"),
    ("redis://u:Pw7secret@h:6379/0?frobnicate=1", "unknown option 'frobnicate'"),
    ("rediss://u:Pw7secret@h:6380/0?ssl_cert_reqs=bogus", "bogus"),
    ("unix://u:Pw7secret@/tmp/redis.sock?db=x", "db='x'"),
    ("ftp://u:Pw7secret@h/0", "scheme 'ftp'"),
    ("redis://:Pw7secret@h:6379/0?password=Pw7secret&socket_timeout=x", "socket_timeout"),
]
URL_COMMANDS = [["apps"], ["scan", "--app", "a"], ["report", "--app", "a", "-o", "r.html"]]


@pytest.mark.parametrize("command", URL_COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize(("url", "words"), BAD_URLS, ids=[u for u, _ in BAD_URLS])
def test_bad_url_is_a_one_line_usage_error_without_the_password(
        command: list[str], url: str, words: str, tmp_path: Path, capsys,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    argv = [command[0], url, *command[1:]]
    assert main(argv) == EXIT_CODES["usage"]
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("mognet-lab: ") and captured.err.count("\n") == 1
    assert words in captured.err and "Traceback" not in captured.err
    assert "Pw7secret" not in captured.err and "***" in captured.err


def test_bad_url_in_a_server_list_is_a_usage_error() -> None:
    import mognet_lab

    with pytest.raises(mognet_lab.InvalidURL, match="port 'x'") as caught:
        mognet_lab.connect(["redis://127.0.0.1:1/0", "redis://:Pw7secret@h:x/0"], app="a",
                           check=False)
    assert "Pw7secret" not in str(caught.value)


# -- outputs are checked before the scan (an unreachable URL proves no scan started) ----
NOWHERE = "redis://127.0.0.1:1/0"


@pytest.mark.parametrize("argv", [
    ["scan", NOWHERE, "--app", "a", "-o", "/missing/dir/x.csv"],
    ["report", NOWHERE, "--app", "a", "-o", "/missing/r.html"],
])
def test_output_in_a_missing_directory_fails_before_scanning(argv: list[str], capsys) -> None:
    assert main([*argv, "--no-progress"]) == EXIT_CODES["usage"]
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err and "/missing" in err, err
    assert "Traceback" not in err


def test_frame_all_to_a_file_name_is_refused_without_creating_it(tmp_path: Path,
                                                                 capsys) -> None:
    target = tmp_path / "x.csv"
    assert main(["scan", NOWHERE, "--app", "a", "--frame", "all", "-o", str(target),
                 "--no-progress"]) == EXIT_CODES["usage"]
    assert not target.exists()
    err = capsys.readouterr().err
    assert "needs a directory" in err and err.count("\n") == 1


def test_save_onto_a_snapshot_needs_overwrite(demo_app, tmp_path: Path, capsys) -> None:
    url, app = demo_app
    target = str(tmp_path / "snap")
    assert main(["scan", url, "--app", app, "--save", target, "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["scan", NOWHERE, "--app", app, "--save", target, "--no-progress"]) == \
        EXIT_CODES["usage"]  # refused before connecting
    err = capsys.readouterr().err
    assert "--overwrite" in err and "overwrite=True" not in err and err.count("\n") == 1
    assert main(["scan", url, "--app", app, "--save", target, "--overwrite",
                 "--no-progress"]) == 0
    assert "saved the snapshot" in capsys.readouterr().err


def test_compare_prints_the_comparison_not_a_repr(demo_app, tmp_path: Path, capsys) -> None:
    url, app = demo_app
    for name in ("a", "b"):
        assert main(["scan", url, "--app", app, "--save", str(tmp_path / name),
                     "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Comparison of two scans\n") and not out.rstrip().endswith(">")
    assert "<Comparison" not in out and "By key kind:" in out


def test_compare_output_in_a_missing_directory_is_a_usage_error(capsys) -> None:
    assert main(["compare", "/missing/a", "/missing/b", "-o", "/missing/d/x.csv"]) == \
        EXIT_CODES["usage"]
    assert "does not exist" in capsys.readouterr().err
