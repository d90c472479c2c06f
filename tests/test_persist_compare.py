"""Saving and loading snapshots (every dtype and the provenance survive), and comparing two
scans of data written by the real mognet package."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import mognet_lab
from mognet_lab.compare import Comparison, ComparisonSummary, compare
from mognet_lab.errors import BadOption, MognetLabError
from mognet_lab.persist import PROVENANCE_FILE, load_snapshot, save_snapshot
from mognet_lab.schemas import FRAME_NAMES, SCHEMAS
from mognet_lab.settings import ScanSettings
from mognet_lab.snapshot import Snapshot
from mognet_writer import MognetWriter, unique_app_name

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def _uid(n: int) -> str:
    return str(uuid.UUID(int=n))


def _assert_same(saved: Snapshot, loaded: Snapshot) -> None:
    assert list(loaded.frames) == list(saved.frames)
    for name in FRAME_NAMES:
        pd.testing.assert_frame_equal(loaded.frames[name], saved.frames[name], check_exact=True)
    assert loaded.provenance == saved.provenance


@pytest.fixture(scope="module")
def demo(demo_keyspace: Snapshot) -> Snapshot:
    return demo_keyspace


# -- save / load ------------------------------------------------------------------------------
def test_round_trip_of_a_scanned_snapshot(demo: Snapshot, tmp_path: Path) -> None:
    where = demo.save(tmp_path / "demo.mognetlab")
    assert where == tmp_path / "demo.mognetlab"
    loaded = Snapshot.load(where)
    _assert_same(demo, loaded)
    # The declared dtypes, checked explicitly too (categoricals, Int64, UTC, timedelta).
    for name, schema in SCHEMAS.items():
        for column, dtype in schema.items():
            assert loaded.frames[name][column].dtype == demo.frames[name][column].dtype
    assert isinstance(loaded.results["created"].dtype, pd.DatetimeTZDtype)
    assert loaded.results["queue_time"].dtype == "timedelta64[ns]"
    assert loaded.results["number_of_starts"].dtype == "Int64"
    assert isinstance(loaded.results["name"].dtype, pd.CategoricalDtype)
    extra = [c for c in demo.metadata.columns if c not in SCHEMAS["metadata"]]
    assert extra and list(loaded.metadata.columns) == list(demo.metadata.columns)
    assert repr(loaded) == repr(demo)


def test_provenance_file(demo: Snapshot, tmp_path: Path) -> None:
    snap = Snapshot(demo.frames, dataclass_replace(demo.provenance,
                                                   url="redis://user:s3cret@host:6379/0"))
    where = snap.save(tmp_path / "p")
    record = json.loads((where / PROVENANCE_FILE).read_text())
    assert record["app"] == "demo" and "s3cret" not in json.dumps(record)
    assert record["url"] == "redis://user:***@host:6379/0"
    assert datetime.fromisoformat(record["scanned_at"]) == demo.provenance.scanned_at
    assert record["duration_s"] == demo.provenance.duration_s
    assert record["settings"] == dataclasses.asdict(ScanSettings())
    assert record["complete"] is True and record["keys_read"] == demo.provenance.keys_read
    assert record["version"] == mognet_lab.__version__
    assert sorted(p.name for p in where.iterdir()) == sorted(
        [PROVENANCE_FILE, *(f"{n}.parquet" for n in FRAME_NAMES)])


def dataclass_replace(obj: Any, **changes: Any) -> Any:
    import dataclasses

    return dataclasses.replace(obj, **changes)


def test_round_trip_of_mixed_metadata_and_extra_columns(tmp_path: Path) -> None:
    values: list[Any] = [1, "text", [1, "two"], None, 2.5, True, {"a": {"b": None}}]
    metadata = [{"result_id": _uid(i), "field_count": 1, "mixed": v, "n": i}
                for i, v in enumerate(values)]
    results = [{"result_id": _uid(i), "name": "t", "state": "SUCCESS", "created": T0,
                "queue_time": timedelta(seconds=i)} for i in range(3)]
    snap = Snapshot.from_frames(app="m", scanned_at=T0, complete=False, metadata=metadata,
                                results=results)
    frames = dict(snap.frames)
    frames["results"] = frames["results"].assign(
        custom=pd.array([1, None, 3], dtype="Int64"),
        when=pd.to_datetime(["2026-01-01", None, "2026-01-02"], utc=True),
        label=pd.Categorical(["x", "y", None], categories=["y", "x"], ordered=True))
    snap = Snapshot(frames, dataclass_replace(snap.provenance, settings=ScanSettings(limit=5),
                                              duration_s=1.5))
    loaded = load_snapshot(save_snapshot(snap, tmp_path / "m"))
    _assert_same(snap, loaded)
    assert loaded.metadata["mixed"].tolist() == values
    assert loaded.provenance.settings.limit == 5 and not loaded.complete


def test_round_trip_of_an_empty_snapshot(tmp_path: Path) -> None:
    snap = Snapshot.from_frames(app="empty", scanned_at=T0)
    _assert_same(snap, Snapshot.load(snap.save(tmp_path / "e")))


def test_save_never_replaces_other_files(demo: Snapshot, tmp_path: Path) -> None:
    where = demo.save(tmp_path / "s")
    with pytest.raises(MognetLabError, match="overwrite=True"):
        demo.save(where)
    assert demo.save(where, overwrite=True) == where
    _assert_same(demo, Snapshot.load(where))
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(MognetLabError, match="not a saved snapshot"):
        demo.save(other, overwrite=True)
    assert (other / "notes.txt").read_text() == "keep me"
    (where / "notes.txt").write_text("keep me too")
    with pytest.raises(MognetLabError, match="notes.txt"):
        demo.save(where, overwrite=True)
    assert (where / "notes.txt").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no scratch left


def _damage(where: Path, how: str) -> None:
    record = json.loads((where / PROVENANCE_FILE).read_text())
    if how == "json":
        (where / PROVENANCE_FILE).write_text("{not json")
    elif how == "format":
        (where / PROVENANCE_FILE).write_text(json.dumps({**record, "format": "other"}))
    elif how == "newer":
        (where / PROVENANCE_FILE).write_text(json.dumps({**record, "format_version": 99}))
    elif how == "frame":
        (where / "values.parquet").unlink()
    elif how == "parquet":
        (where / "keys.parquet").write_bytes(b"not parquet")
    elif how == "field":
        del record["scanned_at"]
        (where / PROVENANCE_FILE).write_text(json.dumps(record))


@pytest.mark.parametrize("how, message", [
    ("json", "not valid JSON"), ("format", "does not describe"), ("newer", "upgrade"),
    ("frame", "lacks values.parquet"), ("parquet", "Cannot read"), ("field", "damaged")])
def test_loading_a_damaged_snapshot_says_so(tmp_path: Path, how: str, message: str) -> None:
    where = Snapshot.from_frames(app="d", scanned_at=T0).save(tmp_path / "d")
    _damage(where, how)
    with pytest.raises(MognetLabError, match=message):
        Snapshot.load(where)


def test_loading_what_is_not_a_snapshot(tmp_path: Path) -> None:
    with pytest.raises(MognetLabError, match="does not exist"):
        Snapshot.load(tmp_path / "nothing")
    with pytest.raises(MognetLabError, match="not a saved mognet_lab snapshot"):
        Snapshot.load(tmp_path)
    file = tmp_path / "frame.parquet"
    file.write_bytes(b"x")
    with pytest.raises(MognetLabError, match="not a saved mognet_lab snapshot"):
        Snapshot.load(file)


def test_missing_pyarrow_is_actionable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snap = Snapshot.from_frames(app="x", scanned_at=T0)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    for action in (lambda: snap.save(tmp_path / "x"), lambda: Snapshot.load(tmp_path)):
        with pytest.raises(MognetLabError, match=r"pip install 'mognet_lab\[parquet\]'"):
            action()
    assert not (tmp_path / "x").exists()


# -- compare -----------------------------------------------------------------------------------
async def _write(w: MognetWriter, count: int, name: str) -> None:
    for i in range(count):
        res = await w.submit(name, i, note="x" * (50 * i))
        await w.start(res)
        await w.complete(res, {"i": i, "rows": list(range(i * 20))})


async def _two_scans(url: str, app: str) -> tuple[Snapshot, Snapshot]:
    """Scan, write more through mognet (and finish a pending result), scan again."""
    async with MognetWriter(url, app) as w:
        await _write(w, 3, "task.a")
        pending = await w.submit("task.a", "later")
        with mognet_lab.connect(url, app=app) as lab:
            old = lab.scan(progress=False)
            await _write(w, 2, "task.a")
            await _write(w, 4, "task.b")
            await w.start(pending)
            await w.complete(pending, "done")
            new = lab.scan(progress=False)
    return old, new


@pytest.fixture(scope="module")
def scans(redis_url: str) -> tuple[Snapshot, Snapshot]:
    return asyncio.run(_two_scans(redis_url, unique_app_name("compare")))


def test_compare_summary(scans: tuple[Snapshot, Snapshot]) -> None:
    old, new = scans
    result = compare(old, new)
    assert isinstance(result, Comparison) and isinstance(result.summary, ComparisonSummary)
    s = result.summary
    assert (s.results_old, s.results_new) == (4, 10)
    assert (s.new_results, s.removed_results, s.changed_state) == (6, 0, 1)
    assert (s.keys_old, s.keys_new, s.delta_keys) == (len(old.keys), len(new.keys),
                                                      len(new.keys) - len(old.keys))
    assert s.delta_bytes == int(new.keys["memory_bytes"].sum() - old.keys["memory_bytes"].sum())
    assert s.elapsed == pd.Timestamp(new.provenance.scanned_at) - \
        pd.Timestamp(old.provenance.scanned_at)
    assert s.elapsed > pd.Timedelta(0) and s.notes == ()


def test_compare_by_kind(scans: tuple[Snapshot, Snapshot]) -> None:
    old, new = scans
    by_kind = compare(old, new).by_kind.set_index("kind")
    assert list(compare(old, new).by_kind.columns) == [
        "kind", "keys_old", "keys_new", "delta_keys", "bytes_old", "bytes_new", "delta_bytes",
        "delta_pct"]
    assert by_kind.loc["result", "delta_keys"] == 6
    assert by_kind.loc["value", "delta_keys"] == 7  # 6 new values and the finished pending one
    for kind, row in by_kind.iterrows():
        for label, snap in (("old", old), ("new", new)):
            keys = snap.keys[snap.keys["kind"] == kind]
            assert row[f"keys_{label}"] == len(keys)
            assert row[f"bytes_{label}"] == keys["memory_bytes"].sum()
        assert row["delta_bytes"] == row["bytes_new"] - row["bytes_old"]
        assert row["delta_pct"] == pytest.approx(100 * row["delta_bytes"] / row["bytes_old"])
    assert by_kind["delta_bytes"].sum() == compare(old, new).summary.delta_bytes


def test_compare_by_task_and_state(scans: tuple[Snapshot, Snapshot]) -> None:
    old, new = scans
    result = compare(old, new)
    by_task = result.by_task.set_index("name")
    assert by_task.loc["task.a", ["results_old", "results_new", "delta_results"]].tolist() == \
        [4, 6, 2]
    assert by_task.loc["task.b", ["results_old", "results_new"]].tolist() == [0, 4]
    assert by_task.loc["task.b", "bytes_new"] == \
        new.results.loc[new.results["name"] == "task.b", "total_memory_bytes"].sum()
    assert pd.isna(by_task.loc["task.b", "delta_pct"])
    by_state = result.by_state.set_index("state")
    assert by_state.loc["PENDING", "delta_results"] == -1
    assert by_state.loc["SUCCESS", ["results_old", "results_new"]].tolist() == [3, 10]
    for table in (result.by_kind, result.by_task, result.by_state):
        sizes = table["delta_bytes"].abs().tolist()
        assert sizes == sorted(sizes, reverse=True)


def test_compare_displays(scans: tuple[Snapshot, Snapshot],
                          capsys: pytest.CaptureFixture[str]) -> None:
    result = compare(*scans)
    text, markup = repr(result), result._repr_html_()
    assert capsys.readouterr().out == ""
    for expected in ("time between scans", "6 new, 0 gone, 1 changed state", "task.b", "new"):
        assert expected in text and expected in markup
    assert "<script" not in markup


def test_compare_notes_and_bad_input(demo: Snapshot) -> None:
    partial = Snapshot.from_frames(app="other", scanned_at=T0, complete=False)
    notes = compare(demo, partial).summary.notes
    assert any("different apps" in n for n in notes)
    assert any("partial" in n for n in notes)
    assert any("before" in n for n in notes)
    with pytest.raises(BadOption):
        compare(demo, "not a snapshot")  # type: ignore[arg-type]
    same = compare(demo, demo)
    assert (same.by_kind["delta_bytes"] == 0).all() and same.summary.new_results == 0
