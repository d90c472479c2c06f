"""Rich displays: escaped markup, honest row caps, ResultView fields, children trees and
values decoded on request (never unpickled) from data written by the real mognet package."""

from __future__ import annotations

import asyncio
import gzip
import json
import pickle
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any, Iterator

import pandas as pd
import pytest

import mognet_lab
from mognet_lab.display import ValueView
from mognet_lab.display.value import decode_stored_value
from mognet_lab.errors import BadOption
from mognet_lab.format import EXCEPTION_INFO_TYPE
from mognet_lab.lab import Lab
from mognet_lab.reader.node import Node
from mognet_lab.schemas import METADATA
from mognet_lab.snapshot import Snapshot
from mognet_lab.views import ResultView, ServerInfo, findings_html
from mognet_lab.views.html import table_html
from mognet_lab.views.model import table
from mognet_lab.views.result import FIELDS
from mognet_lab.views.text import frame_text
from mognet_writer import MognetWriter, Point, unique_app_name

XSS_NAME = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def _assert_safe(markup: str) -> None:
    """No markup from the data survived, and no script of our own was added."""
    assert isinstance(markup, str) and markup.startswith("<div")
    assert "<script" not in markup.lower()
    assert "<img" not in markup.lower()


def _uid(n: int) -> str:
    return str(uuid.UUID(int=n))


# -- hand-made snapshots ------------------------------------------------------------------
def _result(result_id: str, name: str = "task.ok", state: str = "SUCCESS", **extra: Any
            ) -> dict[str, Any]:
    return {"result_id": result_id, "name": name, "state": state, "created": T0,
            "started": T0 + timedelta(seconds=2), "finished": T0 + timedelta(seconds=5),
            "queue_time": timedelta(seconds=2), "duration": timedelta(seconds=3),
            "number_of_starts": 1, "number_of_stops": 1, "unexpected_retries": 0,
            "total_memory_bytes": 100, "value_status": "present", **extra}


@pytest.fixture(scope="module")
def evil() -> Snapshot:
    """Every string a view shows carries markup."""
    root, kid = _uid(1), _uid(2)
    return Snapshot.from_frames(
        app=f"app{XSS_NAME}", scanned_at=T0 + timedelta(days=1),
        url=f"redis://user:secret@host{XSS_IMG}:6379/0",
        results=[_result(root, XSS_NAME, "FAILURE", request_kwargs_repr=f"x='{XSS_IMG}'",
                         node_id=XSS_IMG, children_count=1, extra_fields=json.dumps({XSS_IMG: 1}),
                         error=XSS_NAME),
                 _result(kid, XSS_IMG, parent_id=root)],
        keys=[{"key": f"app{XSS_NAME}.mognet.result.{root}", "kind": "result",
               "result_id": root, "redis_type": "hash", "memory_bytes": 100, "ttl_s": 60.0,
               "error": XSS_IMG}],
        values=[{"result_id": root, "value_type": EXCEPTION_INFO_TYPE, "is_exception": True,
                 "exception_name": XSS_IMG, "exception_message": XSS_NAME, "stored_bytes": 10,
                 "raw_bytes": 20, "compression_ratio": 2.0}],
        children=[{"parent_id": root, "child_id": kid}],
        metadata=[{"result_id": root, "field_count": 1, XSS_IMG: XSS_NAME}],
        states=[{"request_id": XSS_NAME, "field_count": 1, "fields": XSS_IMG}],
        server=[{"node": f"redis://{XSS_NAME}/0", "redis_version": XSS_IMG,
                 "maxmemory_policy": XSS_NAME, "unknown": f"CONFIG GET refused {XSS_IMG}"}],
    )


@pytest.fixture(scope="module")
def demo(demo_keyspace: Snapshot) -> Snapshot:
    return demo_keyspace


def _findings(rows: int = 3, text: str = "ok") -> pd.DataFrame:
    severities = ["critical", "warning", "info"]
    frame = pd.DataFrame({
        "severity": [severities[i % 3] for i in range(rows)],
        "code": [f"code_{i}" for i in range(rows)], "title": [text] * rows,
        "measured": [f"{i} keys {text}" for i in range(rows)], "keys": [i for i in range(rows)],
        "bytes": [1024 * i for i in range(rows)], "advice": [text] * rows})
    frame["severity"] = frame["severity"].astype(
        pd.CategoricalDtype(["info", "warning", "critical"], ordered=True))
    return frame.astype({"keys": "Int64", "bytes": "Int64"})


def _fake_lab(app: str, label: str) -> Lab:
    return Lab((SimpleNamespace(label=label),), app)  # type: ignore[arg-type]


def _html_views(snapshot: Snapshot, result_id: str) -> dict[str, str]:
    compare = pytest.importorskip("mognet_lab.compare")
    return {
        "snapshot": snapshot._repr_html_(),
        "server": snapshot.server_info()._repr_html_(),
        "result": snapshot.result(result_id)._repr_html_(),
        "comparison": compare.compare(snapshot, snapshot)._repr_html_(),
        "findings": findings_html(_findings(text=f"{XSS_NAME}{XSS_IMG}")),
        "lab": _fake_lab(XSS_NAME, f"redis://{XSS_IMG}:6379/0")._repr_html_(),
    }


# -- escaping and side effects ------------------------------------------------------------
def test_every_view_escapes_what_came_from_redis(evil: Snapshot) -> None:
    views = _html_views(evil, _uid(1))
    for name, markup in views.items():
        _assert_safe(markup)
        assert "&lt;" in markup, name
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in views["result"]
    assert "x=&#x27;&lt;img src=x onerror=alert(1)&gt;&#x27;" in views["result"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in views["server"]
    assert "&lt;script&gt;" in views["comparison"] and "&lt;script&gt;" in views["findings"]


def test_escaped_value_view() -> None:
    document = {"value_type": "builtins:str", "raw_value": XSS_NAME}
    fields = {b"contents": json.dumps(document).encode(), b"content_type": b'"application/json"'}
    view = decode_stored_value(_uid(9), "k", fields, max_bytes=1000)
    assert view.status == "value" and view.value == XSS_NAME
    _assert_safe(view._repr_html_())
    info = {"name": XSS_IMG, "message": XSS_NAME, "traceback": f"Traceback {XSS_IMG}",
            "raw_data": None, "raw_data_encoding": None}
    fields[b"contents"] = json.dumps({"value_type": EXCEPTION_INFO_TYPE, "raw_value": info}
                                     ).encode()
    markup = decode_stored_value(_uid(9), "k", fields, max_bytes=1000)._repr_html_()
    _assert_safe(markup)
    assert "Traceback &lt;img" in markup


def test_repr_html_returns_markup_and_prints_nothing(
        evil: Snapshot, capsys: pytest.CaptureFixture[str]) -> None:
    views = _html_views(evil, _uid(1))
    texts = [repr(evil), repr(evil.server_info()), repr(evil.result(_uid(1))),
             repr(_fake_lab("a", "redis://h:1/0"))]
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert all(isinstance(v, str) and v for v in [*views.values(), *texts])


def test_password_never_shown(evil: Snapshot) -> None:
    for text in (repr(evil), evil._repr_html_()):
        assert "secret" not in text and "user:***@" in text


def test_display_import_loads_no_frontend_modules() -> None:
    code = ("import sys, mognet_lab.display, mognet_lab.views, mognet_lab.compare, "
            "mognet_lab.persist\n"
            "heavy = ('matplotlib.pyplot', 'ipywidgets', 'IPython')\n"
            "print(','.join(m for m in heavy if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == ""


# -- row caps ---------------------------------------------------------------------------------
def frame_table(frame: pd.DataFrame, max_rows: int = 20) -> str:
    return table_html(table("t", "", frame, max_rows))


def test_tables_say_how_many_rows_were_left_out() -> None:
    frame = pd.DataFrame({"n": range(25), "text": [XSS_NAME] * 25})
    markup = frame_table(frame, max_rows=20)
    assert markup.count("<tr>") == 21 and "5 more rows not shown" in markup
    assert "more rows" not in frame_table(frame, max_rows=25)
    assert "... 5 more rows not shown" in frame_text(frame, max_rows=20)
    assert "(none)" in frame_table(frame.head(0))


def test_findings_table_badges_and_cap() -> None:
    markup = findings_html(_findings(rows=60), max_rows=50)
    assert "10 more rows not shown" in markup and "Findings (60)" in markup
    for severity in ("critical", "warning", "info"):
        assert f'data-tone="{severity}"' in markup
    assert "background:#c62828" in markup  # critical is red, even without the <style>
    assert "2.0 KiB" in markup  # bytes formatted
    assert "nothing needs attention" in findings_html(_findings(rows=0))


def test_snapshot_views_show_the_overview(demo: Snapshot) -> None:
    text, markup = repr(demo), demo._repr_html_()
    states = demo.results["state"].value_counts()
    top = states.index[0]
    assert f"{top} {states.iloc[0]:,}" in text
    for expected in ("demo", "scanned at", "scan took", "complete", "errors", "present"):
        assert expected in text and expected in markup
    assert f"{len(demo.keys):,}" in text
    partial = Snapshot.from_frames(app="p", scanned_at=T0, complete=False)
    assert "PARTIAL" in repr(partial) and "PARTIAL" in partial._repr_html_()


def test_server_info_fields(evil: Snapshot, demo: Snapshot) -> None:
    text = repr(demo.server_info())
    row = demo.server.iloc[0]
    for expected in (row["redis_version"], row["maxmemory_policy"], "used memory",
                     "peak memory", "maxmemory", "fragmentation", "evicted keys",
                     "expired keys", f"of {row['maxclients']:,} max", "timeout",
                     f"{row['hash_max_listpack_entries']} entries", "dbsize"):
        assert str(expected) in text, expected
    assert "CONFIG GET refused" in repr(evil.server_info())
    assert isinstance(demo.server_info(), ServerInfo)
    empty = Snapshot.from_frames(app="e", scanned_at=T0)
    assert "no server information" in repr(empty.server_info())
    _assert_safe(empty.server_info()._repr_html_())


# -- ResultView ----------------------------------------------------------------------------
def _pick(demo: Snapshot, mask: pd.Series) -> str:
    return str(demo.results.loc[mask.fillna(False).to_numpy(dtype=bool), "result_id"].iloc[0])


def test_result_view_fields_equal_the_frames(demo: Snapshot) -> None:
    results = demo.results
    chosen = {_pick(demo, results["has_metadata"] & (results["value_status"] == "present")),
              _pick(demo, results["children_count"] > 0),
              _pick(demo, results["state"] == "FAILURE")}
    for result_id in chosen:
        view = demo.result(result_id)
        assert isinstance(view, ResultView)
        row = results[results["result_id"] == result_id].iloc[0]
        for column in FIELDS:
            got, want = view.fields[column], row[column]
            assert (got is None) if pd.isna(want) else got == want, column
        keys = demo.keys[demo.keys["result_id"] == result_id]
        assert sorted(view.keys["key"]) == sorted(keys["key"])
        assert view.keys.set_index("key")["memory_bytes"].to_dict() == \
            keys.set_index("key")["memory_bytes"].to_dict()
        meta = demo.metadata[demo.metadata["result_id"] == result_id]
        want_meta = {} if meta.empty else {c: v for c, v in meta.iloc[0].items()
                                           if c not in METADATA and v is not None}
        assert view.metadata == want_meta
        values = demo.values[demo.values["result_id"] == result_id]
        if values.empty:
            assert view.value_summary is None
        else:
            for column, want in values.iloc[0].items():
                if column != "result_id":
                    got = view.value_summary[column]  # type: ignore[index]
                    assert (got is None) if pd.isna(want) else got == want, column
        edges = demo.children[demo.children["parent_id"] == result_id]
        assert sorted(view.children_ids) == sorted(set(edges["child_id"]))
        assert result_id in repr(view) and result_id in view._repr_html_()


def test_result_view_shows_metadata_and_arguments(demo: Snapshot) -> None:
    result_id = _pick(demo, demo.results["has_metadata"])
    view = demo.result(result_id)
    assert view.metadata
    text = repr(view)
    for name, value in view.metadata.items():
        assert f"{name}" in text and str(value)[:20] in text
    assert str(view.fields["request_kwargs_repr"])[:30] in text


def test_result_lookup_by_prefix_and_clear_errors(demo: Snapshot, evil: Snapshot) -> None:
    result_id = str(demo.results["result_id"].iloc[0])
    assert demo.result(result_id[:8]).result_id == result_id
    assert demo.result(uuid.UUID(result_id)).result_id == result_id
    assert demo.result(result_id.upper()).result_id == result_id
    with pytest.raises(KeyError, match="at least 8 characters"):
        demo.result(result_id[:7])
    with pytest.raises(KeyError, match="No result"):
        demo.result(_uid(123456))
    twins = Snapshot.from_frames(app="t", scanned_at=T0, results=[
        _result("abcdef01-0000-4000-8000-000000000001"),
        _result("abcdef01-0000-4000-8000-000000000002")])
    with pytest.raises(KeyError, match="2 results start with 'abcdef01'"):
        twins.result("abcdef01")
    assert twins.result("abcdef01-0000-4000-8000-000000000002").fields["name"] == "task.ok"
    with pytest.raises(BadOption):
        demo.result(42)  # type: ignore[arg-type]


# -- children tree ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def family() -> Snapshot:
    """root: 25 children (c0 has 2, c1 is also c0's child); a chain d1..d5; a cycle."""
    root = _uid(1000)
    kids = [_uid(2000 + i) for i in range(25)]
    chain = [_uid(3000 + i) for i in range(1, 6)]
    edges = [(root, k) for k in kids] + [(kids[0], _uid(4000)), (kids[0], kids[1])]
    edges += list(zip([root, *chain[:-1]], chain))
    cyc_a, cyc_b = _uid(5000), _uid(5001)
    edges += [(cyc_a, cyc_b), (cyc_b, cyc_a)]
    ids = [root, *kids, *chain, _uid(4000), cyc_a, cyc_b]
    results = [_result(rid, name=f"t{i}", created=T0 + timedelta(seconds=i))
               for i, rid in enumerate(ids)]
    return Snapshot.from_frames(app="fam", scanned_at=T0, results=results,
                                children=[{"parent_id": p, "child_id": c} for p, c in edges])


def test_children_tree_width_limit(family: Snapshot) -> None:
    tree = family.result(_uid(1000)).children_tree()
    lines = tree.splitlines()
    top = [line for line in lines if line.startswith(("├── ", "└── "))]
    assert len(top) == 21  # 20 children and the "more" line
    assert top[-1] == "└── ... 6 more (max_width=20)"  # 25 children + d1 = 26
    assert "(already shown above)" in tree  # c1, listed under c0 too, is drawn once
    assert family.result(_uid(1000)).children_tree(max_width=30).count(
        "... ") == 1  # only the depth cut left


def test_children_tree_depth_limit(family: Snapshot) -> None:
    view = family.result(_uid(1000))
    tree = view.children_tree(max_depth=3, max_width=30)
    assert _uid(3003) in tree and _uid(3004) not in tree
    assert "... 1 more (below max_depth=3)" in tree
    shallow = view.children_tree(max_depth=0)
    assert shallow.splitlines() == [f"{_uid(1000)}  t0  SUCCESS",
                                    "└── ... 26 more (below max_depth=0)"]
    with pytest.raises(BadOption):
        view.children_tree(max_depth=-1)
    with pytest.raises(BadOption):
        view.children_tree(max_width=0)


def test_children_tree_survives_cycles(family: Snapshot) -> None:
    tree = family.result(_uid(5000)).children_tree(max_depth=50)
    assert tree.splitlines() == [
        f"{_uid(5000)}  t32  SUCCESS",
        f"└── {_uid(5001)}  t33  SUCCESS",
        f"    └── {_uid(5000)}  t32  SUCCESS  (cycle: listed as its own descendant)"]


def test_children_tree_names_children_without_a_result_hash() -> None:
    snap = Snapshot.from_frames(app="o", scanned_at=T0, results=[_result(_uid(1))],
                                children=[{"parent_id": _uid(1), "child_id": _uid(2)}])
    assert f"{_uid(2)}  (no result hash)" in snap.result(_uid(1)).children_tree()


# -- values read on request, from the real mognet package ---------------------------------------
def _big() -> list[dict[str, Any]]:
    return [{"i": i, "id": str(uuid.uuid4())} for i in range(4000)]


async def _write_values(url: str, app: str) -> dict[str, Any]:
    ids: dict[str, Any] = {}
    async with MognetWriter(url, app) as w, \
            MognetWriter(url, app, gzip=False, node_id="n2") as plain:
        parent = await w.submit("demo.parent", 3, metadata={"user": "alice"})
        await w.start(parent)
        await w.complete(parent, {"total": 45, "tags": ["a", "b"], "nested": {"x": None}})
        ids["dict"] = parent.id
        failing = await w.submit("demo.fails", x=7)
        await w.start(failing)
        try:
            raise ValueError(f"bad input {XSS_IMG}")
        except ValueError as exc:
            await w.fail(failing, exc)
        ids["failure"] = failing.id
        big = await w.submit("demo.big")
        await w.start(big)
        await w.complete(big, _big())
        ids["big"] = big.id
        model = await plain.submit("demo.model")
        await plain.start(model)
        await plain.complete(model, Point(x=1, y=-2))
        ids["plain_model"] = model.id
        ids["pending"] = (await w.submit("demo.pending")).id
        revoked = await w.submit("demo.revoked")
        await w.revoke(revoked.id)
        ids["revoked"] = revoked.id
    return {role: str(rid) for role, rid in ids.items()}


@pytest.fixture(scope="module")
def written(redis_url: str) -> dict[str, Any]:
    app = unique_app_name("display_values")
    return {"app": app, "ids": asyncio.run(_write_values(redis_url, app))}


@pytest.fixture
def lab(redis_url: str, written: dict[str, Any]) -> Iterator[Lab]:
    with mognet_lab.connect(redis_url, app=written["app"]) as found:
        yield found


def test_lab_value_decodes_a_real_value(lab: Lab, written: dict[str, Any]) -> None:
    view = lab.value(written["ids"]["dict"])
    assert isinstance(view, ValueView)
    assert view.status == "value" and view.value_type == "builtins:dict"
    assert view.value == {"total": 45, "tags": ["a", "b"], "nested": {"x": None}}
    assert view.encoding == "gzip" and view.raw_bytes and view.stored_bytes
    assert '"total": 45' in repr(view) and "&quot;total&quot;: 45" in view._repr_html_()


def test_lab_value_plain_encoding_and_model(lab: Lab, written: dict[str, Any]) -> None:
    view = lab.value(written["ids"]["plain_model"])
    assert view.status == "value" and view.encoding is None
    assert view.value == {"x": 1, "y": -2, "label": "p"}
    assert view.value_type.endswith("Point")  # type: ignore[union-attr]


def test_lab_value_of_a_failure_never_unpickles(lab: Lab, written: dict[str, Any],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("pickle must never be loaded")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    view = lab.value(written["ids"]["failure"])
    assert view.status == "exception" and view.exception is not None
    assert view.exception.name == "builtins:ValueError"
    assert view.exception.message == f"bad input {XSS_IMG}"
    assert "Traceback" in (view.exception.traceback or "")
    assert "raise ValueError" in (view.exception.traceback or "")
    assert view.exception.pickled_bytes and view.exception.pickled_bytes > 20
    text = repr(view)
    assert f"pickled exception, {view.exception.pickled_bytes:,} bytes, not loaded" in text
    markup = view._repr_html_()
    _assert_safe(markup)
    assert "not loaded" in markup and "raise ValueError" in markup


def test_lab_value_placeholder_and_missing(lab: Lab, written: dict[str, Any]) -> None:
    assert lab.value(written["ids"]["revoked"]).status == "not_ready"
    missing = lab.value(written["ids"]["pending"])
    assert missing.status == "missing" and missing.value is None
    assert "no value key" in repr(missing)
    _assert_safe(missing._repr_html_())


def test_lab_value_caps_a_large_value(lab: Lab, written: dict[str, Any]) -> None:
    whole = lab.value(written["ids"]["big"])
    assert whole.status == "value" and len(whole.value) == 4000
    view = lab.value(written["ids"]["big"], max_bytes=10_000)
    assert view.status == "truncated" and view.truncated and view.value is None
    assert view.raw_bytes == whole.raw_bytes and view.raw_bytes > 10_000  # type: ignore[operator]
    assert view.text is not None and len(view.text.encode()) <= 10_000 + 3
    assert view.value_type == "builtins:list"
    assert "more than max_bytes=10,000" in repr(view)
    assert len(repr(view)) < 4_000  # the display is cut further, and says so
    assert "more characters not shown" in repr(view)
    assert "more than max_bytes=10,000" in view._repr_html_()


def test_lab_value_sends_only_bounded_reads(lab: Lab, written: dict[str, Any],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []
    original_call, original_batch = Node.call, Node.batch

    def spy_call(self: Node, *command: Any) -> Any:
        sent.append(str(command[0]))
        return original_call(self, *command)

    def spy_batch(self: Node, commands: Any) -> Any:
        sent.extend(c[0].decode() if isinstance(c[0], bytes) else str(c[0]) for c in commands)
        return original_batch(self, commands)

    monkeypatch.setattr(Node, "call", spy_call)
    monkeypatch.setattr(Node, "batch", spy_batch)
    lab.value(written["ids"]["dict"])
    # The server's version once (to use CLIENT NO-TOUCH where it exists), then the read:
    # the size first, then the contents (small enough to read whole).
    reads = ["HLEN", "HSTRLEN", "HMGET", "HGET"]
    assert set(sent) <= {"INFO", "EVALSHA_RO", "EVAL_RO", *reads} and sent[-4:] == reads
    sent.clear()
    lab.value(written["ids"]["dict"])
    assert sent == reads
    sent.clear()
    lab.value(written["ids"]["big"], max_bytes=1000)  # too big: clipped by the server
    assert sent[:3] == reads[:3] and "HGET" not in sent and "HGETALL" not in sent


def test_lab_value_rejects_bad_options(lab: Lab) -> None:
    with pytest.raises(BadOption, match="full id"):
        lab.value("abcdef01")
    with pytest.raises(BadOption, match="max_bytes"):
        lab.value(_uid(1), max_bytes=0)


def test_result_view_value_delegates_to_the_lab(lab: Lab, written: dict[str, Any]) -> None:
    snap = lab.scan(progress=False)
    view = snap.result(written["ids"]["dict"][:8])
    assert view.metadata == {"user": "alice"}
    assert view.value(lab).value == lab.value(written["ids"]["dict"]).value
    assert view.value_summary is not None and view.value_summary["value_type"] == "builtins:dict"
    _assert_safe(lab._repr_html_())
    assert written["app"] in lab._repr_html_()


def test_value_decoder_is_tolerant() -> None:
    def view(contents: bytes, **fields: bytes) -> ValueView:
        return decode_stored_value(_uid(1), "k", {b"contents": contents, **{
            k.encode(): v for k, v in fields.items()}}, max_bytes=100)

    assert view(b"not json").status == "unreadable"
    assert view(b"\x1f\x8b garbage", encoding=b'"gzip"').status == "unreadable"
    assert str(view(b"x", encoding=b'"zstd"').error).startswith("unknown encoding")
    assert view(json.dumps([1, 2]).encode()).status == "unreadable"
    bomb = gzip.compress(b"[" + b"0," * 1_000_000 + b"0]")
    capped = view(bomb, encoding=b'"gzip"')
    assert capped.status == "truncated" and capped.raw_bytes == 2_000_003
    assert len(capped.text or "") <= 100
    assert decode_stored_value(_uid(1), "k", {}, max_bytes=1).status == "unreadable"
    assert decode_stored_value(_uid(1), "k", None, max_bytes=1).status == "missing"
