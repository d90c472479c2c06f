"""Malformed keyspaces: every bad key becomes an ``error`` row or cell and the scan goes on.

Keys are written by hand with redis-py (the real writer never produces these),
next to one well-formed result family; each test checks both the bad key's
rows and that the good family still reads exactly right in the same scan.
"""

from __future__ import annotations

import gzip
import json
import os
import threading
import tracemalloc
import uuid
from typing import Any, Callable, Iterator

import pandas as pd
import pytest
import redis

import mognet_lab
from mognet_lab.format import EXCEPTION_INFO_TYPE, NOT_READY_NAME
from mognet_lab.reader import fetch as fetch_module

CREATED = "2026-11-23T05:10:46.924669Z"
STARTED = "2026-11-23T05:10:47.000000Z"
FINISHED = "2026-11-23T05:10:48.500000Z"
GOOD_DOC = json.dumps({"value_type": "builtins:dict", "raw_value": {"total": 3}}).encode()
NOT_READY_DOC = json.dumps({
    "value_type": EXCEPTION_INFO_TYPE,
    "raw_value": {"name": NOT_READY_NAME, "message": "", "traceback": "",
                  "raw_data": None, "raw_data_encoding": None},
}).encode()


# -- writing helpers ------------------------------------------------------------
def jb(value: Any) -> bytes:
    return json.dumps(value).encode()


def new_id() -> str:
    return str(uuid.uuid4())


def rkey(app: str, rid: str, sub: str = "") -> str:
    return f"{app}.mognet.result.{rid}" + (f"/{sub}" if sub else "")


def result_hash(rid: str, **overrides: Any) -> dict[str, bytes]:
    """Mognet's 11 result fields as JSON bytes; ``overrides`` are raw bytes or JSON values."""
    fields: dict[str, Any] = {
        "id": rid, "name": "tasks.add", "state": "SUCCESS", "number_of_starts": 1,
        "number_of_stops": 1, "parent_id": None, "created": CREATED, "started": STARTED,
        "finished": FINISHED, "node_id": "worker-1", "request_kwargs_repr": "a=1",
    }
    fields.update(overrides)
    return {name: value if isinstance(value, bytes) else jb(value)
            for name, value in fields.items()}


def value_hash(doc: bytes = GOOD_DOC, *, gz: bool = True, **extra: bytes) -> dict[str, bytes]:
    return {"contents": gzip.compress(doc) if gz else doc,
            "encoding": jb("gzip" if gz else None),
            "content_type": jb("application/json"), **extra}


def write_result(client: redis.Redis, app: str, rid: str | None = None, *,
                 value: dict[str, bytes] | None = None, **fields: Any) -> str:
    rid = rid or new_id()
    client.hset(rkey(app, rid), mapping=result_hash(rid, **fields))
    if value is not None:
        client.hset(rkey(app, rid, "value"), mapping=value)
    return rid


class Good:
    """One complete, well-formed result family (result, value, children, metadata)."""

    def __init__(self, client: redis.Redis, app: str) -> None:
        self.child_ids = [new_id(), new_id()]
        self.rid = write_result(client, app, value=value_hash())
        for child in self.child_ids:
            write_result(client, app, child, parent_id=self.rid, value=value_hash())
        client.sadd(rkey(app, self.rid, "children"),
                    *(uuid.UUID(child).bytes for child in self.child_ids))
        client.hset(rkey(app, self.rid, "metadata"), mapping={"user": jb("ann")})

    def check(self, snap: mognet_lab.Snapshot) -> None:
        result = row(snap.results, "result_id", self.rid)
        assert pd.isna(result["error"]), result["error"]
        assert result["state"] == "SUCCESS" and result["name"] == "tasks.add"
        assert result["value_status"] == "present"
        assert result["children_count"] == 2 and bool(result["has_metadata"])
        assert result["duration"] == pd.Timedelta("1.5s")
        value = row(snap.values, "result_id", self.rid)
        assert pd.isna(value["error"]), value["error"]
        assert value["raw_bytes"] == len(GOOD_DOC)
        assert value["raw_bytes_source"] == "decompressed"
        assert value["value_type"] == "builtins:dict"
        edges = snap.children[snap.children["parent_id"] == self.rid]
        assert sorted(edges["child_id"]) == sorted(self.child_ids)
        assert edges["error"].isna().all()
        meta = row(snap.metadata, "result_id", self.rid)
        assert meta["user"] == "ann" and pd.isna(meta["error"])
        for child in self.child_ids:
            assert pd.isna(row(snap.results, "result_id", child)["error"])


def row(frame: pd.DataFrame, column: str, value: Any) -> pd.Series:
    found = frame[frame[column] == value]
    assert len(found) == 1, f"{len(found)} rows with {column}={value!r} in\n{frame}"
    return found.iloc[0]


def key_row(snap: mognet_lab.Snapshot, key: str | bytes) -> pd.Series:
    text = key.decode("utf-8", "backslashreplace") if isinstance(key, bytes) else key
    return row(snap.keys, "key", text)


def scan(redis_url: str, app: str, **options: Any) -> mognet_lab.Snapshot:
    with mognet_lab.connect(redis_url, app=app) as lab:
        return lab.scan(progress=False, **options)


def has(cell: Any, *words: str) -> bool:
    return not pd.isna(cell) and all(word in cell for word in words)


@pytest.fixture
def good(client: redis.Redis, app_name: str) -> Good:
    return Good(client, app_name)


@pytest.fixture
def redis_version(client: redis.Redis) -> int:
    return int(client.info("server")["redis_version"].split(".")[0])


# -- keys of the wrong Redis type ----------------------------------------------
WRITERS: dict[str, Callable[[redis.Redis, str], Any]] = {
    "string": lambda c, k: c.set(k, "x"),
    "list": lambda c, k: c.rpush(k, "a", "b"),
    "set": lambda c, k: c.sadd(k, "a", "b"),
    "zset": lambda c, k: c.zadd(k, {"a": 1.0}),
    "hash": lambda c, k: c.hset(k, "a", "1"),
}
WRONG_TYPES = [("result", t) for t in ("string", "list", "set", "zset")] + \
    [("value", t) for t in ("string", "list", "set", "zset")] + \
    [("children", t) for t in ("string", "list", "zset", "hash")] + \
    [("metadata", t) for t in ("string", "list", "set", "zset")] + [("state", "list")]


@pytest.mark.parametrize(("kind", "rtype"), WRONG_TYPES, ids=[f"{k}-{t}" for k, t in WRONG_TYPES])
def test_key_of_wrong_type(client: redis.Redis, app_name: str, redis_url: str, good: Good,
                           kind: str, rtype: str) -> None:
    owner = new_id() if kind in ("result", "state") else write_result(client, app_name)
    key = f"{app_name}.mognet.state.{owner}" if kind == "state" else \
        rkey(app_name, owner, "" if kind == "result" else kind)
    WRITERS[rtype](client, key)
    snap = scan(redis_url, app_name)
    good.check(snap)
    keys_row = key_row(snap, key)
    assert keys_row["kind"] == kind and keys_row["redis_type"] == rtype
    assert has(keys_row["error"], "expected a", f"found a {rtype}")
    assert keys_row["memory_bytes"] > 0
    frame, column = {"result": ("results", "result_id"), "value": ("values", "result_id"),
                     "children": ("children", "parent_id"),
                     "metadata": ("metadata", "result_id"),
                     "state": ("states", "request_id")}[kind]
    bad = row(snap.frame(frame), column, owner)
    assert has(bad["error"], f"found a {rtype}")
    if kind == "value":
        assert row(snap.results, "result_id", owner)["value_status"] == "unreadable"
    if kind == "children":
        assert pd.isna(bad["child_id"])


# -- field contents that are not what Mognet writes -------------------------------
def test_non_json_result_fields(client: redis.Redis, app_name: str, redis_url: str,
                                good: Good) -> None:
    rid = write_result(client, app_name, name=b"tasks.add", node_id=b"{oops",
                       number_of_starts=b"three")
    snap = scan(redis_url, app_name)
    good.check(snap)
    result = row(snap.results, "result_id", rid)
    assert has(result["error"], "'name' is not JSON", "'node_id' is not JSON",
               "'number_of_starts' is not JSON")
    assert pd.isna(result["name"]) and pd.isna(result["number_of_starts"])
    assert result["state"] == "SUCCESS" and result["number_of_stops"] == 1
    assert result["value_status"] == "lost"  # SUCCESS, and no /value key


def test_non_json_metadata_and_state_fields(client: redis.Redis, app_name: str,
                                            redis_url: str, good: Good) -> None:
    rid = write_result(client, app_name)
    client.hset(rkey(app_name, rid, "metadata"),
                mapping={"ok": jb(1), "bad": b"{not json", "nested": jb({"a": {"b": 2}})})
    request_id = new_id()
    client.hset(f"{app_name}.mognet.state.{request_id}",
                mapping={"step": jb(4), "cursor": b"not-json"})
    snap = scan(redis_url, app_name)
    good.check(snap)
    meta = row(snap.metadata, "result_id", rid)
    assert has(meta["error"], "'bad' is not JSON")
    assert meta["ok"] == 1 and meta["bad"] == "{not json" and meta["nested.a.b"] == 2
    assert meta["field_count"] == 3
    state = row(snap.states, "request_id", request_id)
    assert has(state["error"], "'cursor' is not JSON")
    assert json.loads(state["fields"]) == {"step": 4, "cursor": "not-json"}


def test_metadata_fields_named_like_columns_are_kept(client: redis.Redis, app_name: str,
                                                     redis_url: str, good: Good) -> None:
    rid = write_result(client, app_name)
    client.hset(rkey(app_name, rid, "metadata"),
                mapping={"error": jb("mine"), "ttl_s": jb(5), "result_id": jb("x")})
    snap = scan(redis_url, app_name)
    good.check(snap)
    meta = row(snap.metadata, "result_id", rid)
    assert pd.isna(meta["error"])
    assert (meta["meta.error"], meta["meta.ttl_s"], meta["meta.result_id"]) == ("mine", 5, "x")


# -- value contents -----------------------------------------------------------------
def _value_case(client: redis.Redis, app: str, contents: bytes, **extra: bytes) -> str:
    value = {**value_hash(), "contents": contents, **extra}
    return write_result(client, app, value=value)


def test_truncated_gzip(client: redis.Redis, app_name: str, redis_url: str, good: Good) -> None:
    whole = gzip.compress(GOOD_DOC)
    cuts = {write_result(client, app_name, value={**value_hash(), "contents": whole[:n]}): n
            for n in (5, len(whole) // 2, len(whole) - 6)}
    snap = scan(redis_url, app_name)
    good.check(snap)
    for rid, n in cuts.items():
        value = row(snap.values, "result_id", rid)
        assert has(value["error"], "truncated gzip stream"), n
        assert pd.isna(value["raw_bytes"]) and value["stored_bytes"] == n


def test_truncated_gzip_value_status(client: redis.Redis, app_name: str, redis_url: str) -> None:
    # The head still shows value_type, but Mognet itself cannot read this value.
    rid = _value_case(client, app_name, gzip.compress(GOOD_DOC)[:-6])
    snap = scan(redis_url, app_name)
    value = row(snap.values, "result_id", rid)
    assert value["value_type"] == "builtins:dict" and not value["readable"]
    assert row(snap.results, "result_id", rid)["value_status"] == "unreadable"


def test_corrupt_gzip(client: redis.Redis, app_name: str, redis_url: str, good: Good) -> None:
    whole = bytearray(gzip.compress(GOOD_DOC * 20))
    crc = bytearray(whole)
    crc[-8] ^= 0xFF  # the CRC32 of the trailer
    size = bytearray(whole)
    size[-1] ^= 0x01  # ISIZE
    body = bytearray(whole)
    body[12] ^= 0xFF  # inside the deflate data
    ids = {name: _value_case(client, app_name, bytes(data))
           for name, data in (("crc", crc), ("size", size), ("body", body))}
    snap = scan(redis_url, app_name)
    good.check(snap)
    for name, rid in ids.items():
        value = row(snap.values, "result_id", rid)
        assert has(value["error"], "gzip"), name
        assert pd.isna(value["raw_bytes"]), name
        assert row(snap.results, "result_id", rid)["value_status"] == "unreadable", name
    assert has(row(snap.values, "result_id", ids["crc"])["error"], "corrupt gzip stream")


def test_gzip_bomb_is_measured_with_bounded_memory(client: redis.Redis, app_name: str,
                                                   redis_url: str, good: Good) -> None:
    raw_size = 20 << 20
    prefix = b'{"value_type": "builtins:str", "raw_value": "'
    document = prefix + b"A" * (raw_size - len(prefix) - 2) + b'"}'
    bomb = gzip.compress(document, compresslevel=9)
    del document
    assert len(bomb) < 64 << 10
    rid = _value_case(client, app_name, bomb)
    tracemalloc.start()
    try:
        snap = scan(redis_url, app_name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 12 << 20, f"scan peaked at {peak} bytes for a {len(bomb)}-byte bomb"
    good.check(snap)
    value = row(snap.values, "result_id", rid)
    assert value["raw_bytes"] == raw_size and value["raw_bytes_source"] == "gzip_trailer"
    assert value["value_type"] == "builtins:str" and pd.isna(value["error"])
    assert value["stored_bytes"] == len(bomb)


def test_gzip_too_large_for_its_trailer(client: redis.Redis, app_name: str, redis_url: str,
                                        good: Good) -> None:
    # Incompressible: stored size * 1032 >= 2**32, so ISIZE (mod 2**32) may have wrapped.
    contents = gzip.compress(os.urandom(4_200_000), compresslevel=1)
    assert len(contents) * 1032 >= 2**32
    rid = _value_case(client, app_name, contents)
    snap = scan(redis_url, app_name)
    good.check(snap)
    value = row(snap.values, "result_id", rid)
    assert pd.isna(value["raw_bytes"]) and has(value["error"], "4 GiB")
    assert value["stored_bytes"] == len(contents)


def test_unknown_encoding_and_content_type(client: redis.Redis, app_name: str, redis_url: str,
                                          good: Good) -> None:
    zstd = _value_case(client, app_name, b"\x28\xb5\x2f\xfd" + b"\x00" * 20,
                       encoding=jb("zstd"))
    msgpack = _value_case(client, app_name, gzip.compress(GOOD_DOC),
                          content_type=jb("application/msgpack"))
    snap = scan(redis_url, app_name)
    good.check(snap)
    value = row(snap.values, "result_id", zstd)
    assert value["encoding"] == "zstd" and has(value["error"], "unknown encoding")
    assert pd.isna(value["raw_bytes"]) and value["stored_bytes"] == 24
    value = row(snap.values, "result_id", msgpack)
    assert value["content_type"] == "application/msgpack"
    assert has(value["error"], "unknown content_type") and pd.isna(value["value_type"])
    assert value["raw_bytes"] == len(GOOD_DOC)  # still measured
    for rid in (zstd, msgpack):
        assert row(snap.results, "result_id", rid)["value_status"] == "unreadable"


def test_extra_fields_on_value_hash(client: redis.Redis, app_name: str, redis_url: str,
                                    good: Good) -> None:
    rid = write_result(client, app_name, value=value_hash(checksum=jb("abc")))
    snap = scan(redis_url, app_name)
    good.check(snap)
    value = row(snap.values, "result_id", rid)
    assert value["value_type"] == "builtins:dict" and value["raw_bytes"] == len(GOOD_DOC)
    assert has(value["error"], "checksum")
    assert row(snap.results, "result_id", rid)["value_status"] == "present"


def test_plain_and_placeholder_values(client: redis.Redis, app_name: str, redis_url: str,
                                      good: Good) -> None:
    plain = write_result(client, app_name, value=value_hash(gz=False))
    waiting = write_result(client, app_name, state="RUNNING", finished=None,
                           value=value_hash(NOT_READY_DOC))
    snap = scan(redis_url, app_name)
    good.check(snap)
    value = row(snap.values, "result_id", plain)
    assert (value["raw_bytes"], value["raw_bytes_source"]) == (len(GOOD_DOC), "plain")
    assert row(snap.results, "result_id", plain)["value_status"] == "present"
    assert row(snap.values, "result_id", waiting)["exception_name"] == NOT_READY_NAME
    assert row(snap.results, "result_id", waiting)["value_status"] == "not_ready"


# -- text that is not UTF-8 -----------------------------------------------------------
def test_non_utf8_field_values_and_names(client: redis.Redis, app_name: str, redis_url: str,
                                         good: Good) -> None:
    rid = write_result(client, app_name, name=b'"caf\xe9"')
    client.hset(rkey(app_name, rid), b"\xff\xfe", jb(1))
    meta = write_result(client, app_name)
    client.hset(rkey(app_name, meta, "metadata"), mapping={b"\xfename": jb("x"),
                                                           b"v": b'"\xff"'})
    plain = write_result(client, app_name,
                         value=value_hash(GOOD_DOC.replace(b"total", b"tot\xffal"), gz=False))
    snap = scan(redis_url, app_name)
    good.check(snap)
    result = row(snap.results, "result_id", rid)
    assert has(result["error"], "'name' is not valid UTF-8", "field name is not valid UTF-8")
    assert result["name"] == "caf\ufffd"
    assert json.loads(result["extra_fields"]) == {"\ufffd\ufffd": 1}
    metadata = row(snap.metadata, "result_id", meta)
    assert has(metadata["error"], "not valid UTF-8") and metadata["field_count"] == 2
    value = row(snap.values, "result_id", plain)
    assert has(value["error"], "contents is not valid UTF-8")
    assert value["raw_bytes"] == len(GOOD_DOC) + 1 and value["value_type"] == "builtins:dict"


def test_non_utf8_key_names(client: redis.Redis, app_name: str, redis_url: str,
                            good: Good) -> None:
    prefix = f"{app_name}.mognet.".encode()
    odd = [prefix + b"\xff\xfe", prefix + b"result.\xff" + b"0" * 35]
    for key in odd:
        client.set(key, "x")
    snap = scan(redis_url, app_name)
    good.check(snap)
    for key in odd:
        found = key_row(snap, key)
        assert found["kind"] == "unknown" and found["redis_type"] == "string"


def test_non_utf8_state_key_name(client: redis.Redis, app_name: str, redis_url: str,
                                 good: Good) -> None:
    key = f"{app_name}.mognet.state.".encode() + b"req-\xff\xfe"
    client.hset(key, "step", jb(1))
    snap = scan(redis_url, app_name)
    good.check(snap)
    assert key_row(snap, key)["kind"] == "state"
    state = snap.states[snap.states["field_count"] == 1]
    assert len(state) == 1
    request_id = state["request_id"].iloc[0]
    request_id.encode("utf-8")  # printable, storable text (no lone surrogates)
    assert request_id.startswith("req-") and key_row(snap, key)["result_id"] == request_id


# -- children -----------------------------------------------------------------------
def test_children_members_not_16_bytes(client: redis.Redis, app_name: str, redis_url: str,
                                       good: Good) -> None:
    parent = write_result(client, app_name)
    kids = [new_id() for _ in range(3)]
    client.sadd(rkey(app_name, parent, "children"), *(uuid.UUID(k).bytes for k in kids),
                b"short", kids[0].encode(), b"")
    snap = scan(redis_url, app_name)
    good.check(snap)
    edges = snap.children[snap.children["parent_id"] == parent]
    assert sorted(edges["child_id"].dropna()) == sorted(kids)
    bad = edges[edges["child_id"].isna()]
    assert len(bad) == 3 and bad["error"].str.contains("expected 16").all()
    assert row(snap.results, "result_id", parent)["children_count"] == 6


def test_children_set_larger_than_one_call(client: redis.Redis, app_name: str,
                                           redis_url: str, good: Good) -> None:
    parent = write_result(client, app_name)
    kids = [new_id() for _ in range(250)]
    client.sadd(rkey(app_name, parent, "children"), *(uuid.UUID(k).bytes for k in kids))
    settings = mognet_lab.ScanSettings(max_members_per_call=10)
    snap = scan(redis_url, app_name, settings=settings, batch=7)
    good.check(snap)
    edges = snap.children[snap.children["parent_id"] == parent]
    assert sorted(edges["child_id"]) == sorted(kids) and edges["error"].isna().all()
    assert row(snap.results, "result_id", parent)["children_count"] == 250


# -- result hashes --------------------------------------------------------------------
def test_result_holding_only_id(client: redis.Redis, app_name: str, redis_url: str,
                                good: Good) -> None:
    bare, waiting = new_id(), new_id()
    for rid in (bare, waiting):
        client.hset(rkey(app_name, rid), "id", jb(rid))
    client.hset(rkey(app_name, waiting, "value"), mapping=value_hash(NOT_READY_DOC))
    snap = scan(redis_url, app_name)
    good.check(snap)
    result = row(snap.results, "result_id", bare)
    assert result["state"] == "PENDING" and pd.isna(result["error"])
    assert (result["number_of_starts"], result["number_of_stops"]) == (0, 0)
    assert pd.isna(result["created"]) and pd.isna(result["name"])
    assert result["value_status"] == "none"
    assert row(snap.results, "result_id", waiting)["value_status"] == "not_ready"


def test_extra_fields_on_result_hash(client: redis.Redis, app_name: str, redis_url: str,
                                     good: Good) -> None:
    rid = write_result(client, app_name, retries_left=3, tags=["a", "b"],
                       weird=b"not json", options={"x": {"y": None}})
    snap = scan(redis_url, app_name)
    good.check(snap)
    result = row(snap.results, "result_id", rid)
    assert json.loads(result["extra_fields"]) == {
        "retries_left": 3, "tags": ["a", "b"], "weird": "not json", "options": {"x": {"y": None}}}
    assert has(result["error"], "'weird' is not JSON")
    assert result["state"] == "SUCCESS" and result["name"] == "tasks.add"
    assert result["duration"] == pd.Timedelta("1.5s") and result["node_id"] == "worker-1"


def test_id_field_differs_or_missing(client: redis.Redis, app_name: str, redis_url: str,
                                     good: Good) -> None:
    other = write_result(client, app_name, id=new_id())
    missing = new_id()
    fields = result_hash(missing)
    del fields["id"]
    client.hset(rkey(app_name, missing), mapping=fields)
    snap = scan(redis_url, app_name)
    good.check(snap)
    assert has(row(snap.results, "result_id", other)["error"], "differs from the key")
    result = row(snap.results, "result_id", missing)
    assert has(result["error"], "no 'id' field") and result["state"] == "SUCCESS"


def test_unknown_state_and_bad_counters(client: redis.Redis, app_name: str, redis_url: str,
                                        good: Good) -> None:
    odd = write_result(client, app_name, state="EXPLODED")
    negative = write_result(client, app_name, number_of_starts=-1)
    fractional = write_result(client, app_name, number_of_stops=1.5)
    boolean = write_result(client, app_name, number_of_starts=True)
    snap = scan(redis_url, app_name)
    good.check(snap)
    result = row(snap.results, "result_id", odd)
    assert result["state"] == "EXPLODED" and has(result["error"], "unknown state")
    assert result["value_status"] == "none"
    for rid, name in ((negative, "number_of_starts"), (fractional, "number_of_stops"),
                      (boolean, "number_of_starts")):
        result = row(snap.results, "result_id", rid)
        assert pd.isna(result[name]) and has(result["error"], f"'{name}' is not a count")
        assert pd.isna(result["unexpected_retries"])


def test_malformed_timestamps(client: redis.Redis, app_name: str, redis_url: str,
                              good: Good) -> None:
    rid = write_result(client, app_name, created="yesterday", started=12345,
                       finished="2026-02-30T00:00:00Z")
    naive = write_result(client, app_name, created="2026-11-23T05:10:46",
                         started="2026-11-23T06:10:46+01:00")
    snap = scan(redis_url, app_name)
    good.check(snap)
    result = row(snap.results, "result_id", rid)
    for name in ("created", "started", "finished"):
        assert pd.isna(result[name]) and has(result["error"], f"'{name}'"), name
    assert pd.isna(result["duration"]) and result["state"] == "SUCCESS"
    result = row(snap.results, "result_id", naive)
    assert pd.isna(result["error"]), result["error"]
    assert result["queue_time"] == pd.Timedelta(0)  # both mean 05:10:46 UTC


# -- which keys belong to the app -----------------------------------------------------
def test_other_apps_sharing_a_prefix_never_appear(client: redis.Redis, app_name: str,
                                                  redis_url: str, good: Good) -> None:
    for other in (app_name + "2", app_name + "_x", app_name[:-1], app_name + ".mognetx"):
        write_result(client, other, value=value_hash())
    client.set(f"{app_name}.mognetresult", "x")
    client.set(f"{app_name}mognet.result", "x")
    snap = scan(redis_url, app_name)
    good.check(snap)
    prefix = f"{app_name}.mognet."
    assert snap.keys["key"].str.startswith(prefix).all()
    assert len(snap.keys) == 8  # Good's 3 results, 3 values, children and metadata


@pytest.fixture
def own_db(redis_url: str) -> Iterator[tuple[str, redis.Redis]]:
    """A database of this file's own (emptied after each test): an app literally named
    ``*`` must not meet other tests' keys, and a small keyspace keeps SCAN COUNT 1 quick."""
    url = redis_url.rsplit("/", 1)[0] + "/11"
    conn = redis.Redis.from_url(url)
    try:
        yield url, conn
    finally:
        keys = list(conn.scan_iter(match="*", count=1000))
        if keys:
            conn.delete(*keys)
        conn.close()


@pytest.mark.parametrize("app", ["*", "a[1]", "a?", "a\\b", "[x]*", "*.mognet.*"])
def test_app_names_with_glob_characters(own_db: tuple[str, redis.Redis], app: str) -> None:
    url, conn = own_db
    mine = {write_result(conn, app, value=value_hash())}
    for decoy in ("a1", "ab", "a\\\\b", "x", "[x]y", "a", "b.mognet.c"):
        if decoy != app:
            write_result(conn, decoy, value=value_hash())
    snap = scan(url, app)
    assert set(snap.results["result_id"]) == mine
    assert len(snap.keys) == 2
    assert snap.keys["key"].str.startswith(f"{app}.mognet.").all()


def test_keys_outside_the_grammar_are_unknown(client: redis.Redis, app_name: str,
                                              redis_url: str, good: Good) -> None:
    rid = new_id()
    odd = {
        f"{app_name}.mognet.weird": "string",
        rkey(app_name, rid.upper()): "hash",
        rkey(app_name, rid, "other"): "hash",
        rkey(app_name, rid, "value") + "/extra": "hash",
        f"{app_name}.mognet.result.{rid}x": "set",
        f"{app_name}.mognet.state.": "list",
        f"{app_name}.mognet.result.": "zset",
    }
    for key, rtype in odd.items():
        WRITERS[rtype](client, key)
    snap = scan(redis_url, app_name)
    good.check(snap)
    for key, rtype in odd.items():
        found = key_row(snap, key)
        assert (found["kind"], found["redis_type"]) == ("unknown", rtype), key
        assert found["memory_bytes"] > 0 and pd.isna(found["result_id"])
    assert rid not in set(snap.results["result_id"]) | set(snap.values["result_id"])


def test_key_with_trailing_newline_is_unknown(client: redis.Redis, app_name: str,
                                              redis_url: str, good: Good) -> None:
    client.hset(rkey(app_name, good.rid) + "\n", mapping=result_hash(good.rid, state="FAILURE"))
    snap = scan(redis_url, app_name)
    assert key_row(snap, rkey(app_name, good.rid) + "\n")["kind"] == "unknown"
    good.check(snap)


# -- limits from ScanSettings -----------------------------------------------------------
def test_hash_with_too_many_fields(client: redis.Redis, app_name: str, redis_url: str,
                                   good: Good) -> None:
    meta = write_result(client, app_name)
    client.hset(rkey(app_name, meta, "metadata"), mapping={f"f{i}": jb(i) for i in range(10)})
    request_id = new_id()
    client.hset(f"{app_name}.mognet.state.{request_id}",
                mapping={f"f{i}": jb(i) for i in range(6)})
    wide = write_result(client, app_name, extra_a=1)
    wide_value = write_result(client, app_name,
                              value=value_hash(**{f"x{i}": b"1" for i in range(4)}))
    settings = mognet_lab.ScanSettings(max_hash_fields=5)
    snap = scan(redis_url, app_name, settings=settings)
    good.check(snap)  # Mognet's own 11-field result hashes are always read
    assert has(row(snap.metadata, "result_id", meta)["error"], "max_hash_fields=5")
    assert has(row(snap.states, "request_id", request_id)["error"], "max_hash_fields=5")
    assert has(row(snap.results, "result_id", wide)["error"], "max_hash_fields=5")
    assert has(row(snap.values, "result_id", wide_value)["error"], "max_hash_fields=5")
    assert has(key_row(snap, rkey(app_name, meta, "metadata"))["error"], "max_hash_fields")


def _commandstat(client: redis.Redis, name: str) -> int:
    return int(client.info("commandstats").get(f"cmdstat_{name}", {}).get("calls", 0))


def test_value_larger_than_max_fetch_bytes(client: redis.Redis, app_name: str, redis_url: str,
                                           good: Good, redis_version: int) -> None:
    noise = os.urandom(6000).hex()
    document = json.dumps({"value_type": "builtins:str", "raw_value": noise}).encode()
    big = write_result(client, app_name, value=value_hash(document))
    failure = json.dumps({"value_type": EXCEPTION_INFO_TYPE, "raw_value": {
        "name": "builtins:ValueError", "message": 'bad "x"', "traceback": noise}}).encode()
    failed = write_result(client, app_name, state="FAILURE", value=value_hash(failure))
    plain = write_result(client, app_name, value=value_hash(document, gz=False))
    scripts = _commandstat(client, "evalsha_ro") + _commandstat(client, "eval_ro")
    settings = mognet_lab.ScanSettings(max_fetch_bytes=1000, head_bytes=200)
    snap = scan(redis_url, app_name, settings=settings)
    good.check(snap)
    clipped = redis_version >= 7
    used = _commandstat(client, "evalsha_ro") + _commandstat(client, "eval_ro") - scripts
    assert (used > 0) == clipped
    value = row(snap.values, "result_id", big)
    assert value["raw_bytes"] == len(document) and value["value_type"] == "builtins:str"
    # Both ways (clipped by the server's script, or here) measure it by its trailer.
    assert value["raw_bytes_source"] == "gzip_trailer"
    assert pd.isna(value["error"]) and value["stored_bytes"] > 1000
    value = row(snap.values, "result_id", failed)
    assert value["exception_name"] == "builtins:ValueError"
    assert value["exception_message"] == 'bad "x"' and bool(value["is_exception"])
    value = row(snap.values, "result_id", plain)
    assert (value["raw_bytes"], value["raw_bytes_source"]) == (len(document), "plain")
    assert value["value_type"] == "builtins:str" and pd.isna(value["error"])


def test_value_larger_than_both_caps_uses_the_trailer(client: redis.Redis, app_name: str,
                                                      redis_url: str, good: Good) -> None:
    document = json.dumps({"value_type": "builtins:str",
                           "raw_value": os.urandom(20000).hex()}).encode()
    rid = write_result(client, app_name, value=value_hash(document))
    settings = mognet_lab.ScanSettings(max_fetch_bytes=1000, decompress_cap=4096)
    snap = scan(redis_url, app_name, settings=settings)
    good.check(snap)
    value = row(snap.values, "result_id", rid)
    assert (value["raw_bytes"], value["raw_bytes_source"]) == (len(document), "gzip_trailer")
    assert value["value_type"] == "builtins:str" and pd.isna(value["error"])


# -- keys that change while the scan runs ------------------------------------------------
# Notes the reader writes for a key that vanished between its two rounds.
_VANISHED_NOTES = ("no 'contents' field", "no 'id' field")


def _vanished_errors(snap: mognet_lab.Snapshot) -> list[str]:
    """Kind-frame errors; fails at once on any error a vanished key cannot explain."""
    assert snap.keys["memory_bytes"].notna().all()
    assert snap.keys["error"].isna().all(), snap.keys["error"].dropna().tolist()
    errors = []
    for name in ("results", "values", "metadata", "states", "children"):
        frame = snap.frame(name)
        if name != "children":
            assert frame["memory_bytes"].notna().all(), name
        errors += frame["error"].dropna().tolist()
    assert all(e.startswith(_VANISHED_NOTES) for e in errors), errors
    return errors


def test_keys_expiring_during_the_scan(client: redis.Redis, app_name: str,
                                       redis_url: str) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(400):
        rid = new_id()
        pipe.hset(rkey(app_name, rid), mapping=result_hash(rid, extra=i))
        pipe.hset(rkey(app_name, rid, "value"), mapping=value_hash())
        pipe.hset(rkey(app_name, rid, "metadata"), mapping={"i": jb(i)})
        pipe.sadd(rkey(app_name, rid, "children"), uuid.uuid4().bytes)
    pipe.execute()
    keys = list(client.scan_iter(match=f"{app_name}.mognet.*", count=1000))
    lab = mognet_lab.connect(redis_url, app=app_name)
    try:
        pipe = client.pipeline(transaction=False)
        for i, key in enumerate(keys):
            pipe.pexpire(key, 1 + i % 40)  # spread over the scan's duration
        pipe.execute()
        snap = lab.scan(progress=False, batch=20)
    finally:
        lab.close()
    assert (snap.metadata["field_count"] == 1).all()
    assert not _vanished_errors(snap)


class _VanishingNode:
    """A node on which every key is gone after PTTL and MEMORY USAGE answered."""

    label, scripting = "fake", False
    canned = {b"PTTL": 5, b"MEMORY": 100, b"HLEN": 0, b"SCARD": 0, b"HSTRLEN": 0,
              b"OBJECT": None, b"HGETALL": [], b"SMEMBERS": [], b"HGET": None, b"TYPE": b"none"}

    def batch_keyed(self, pairs: Any) -> list[Any]:
        return [[None] * (len(c) - 2) if c[0] == b"HMGET" else self.canned[c[0]]
                for template, _ in pairs for c in template.commands]

    def batch_grouped(self, groups: Any) -> list[Any]:
        return self.batch_keyed([(template, key) for template, keys in groups for key in keys])

    def call(self, *command: Any) -> Any:
        return (0, [])


def test_key_vanishing_inside_round_one() -> None:
    # Redis keeps no empty hash or set: HLEN/SCARD 0 after PTTL >= 0 means it just expired.
    from mognet_lab.keys import group_by_kind

    rid = new_id()
    keys = [rkey("a", rid, sub).encode() for sub in ("", "value", "metadata", "children")]
    keys.append(b"a.mognet.state.r")
    batches = fetch_module.fetch_batch(_VanishingNode(),  # type: ignore[arg-type]
                                       group_by_kind("a", keys), mognet_lab.ScanSettings())
    assert [key for batch in batches for key in batch.keys] == []


def _delete_before(monkeypatch: pytest.MonkeyPatch, client: redis.Redis,
                   target: Any, attribute: str) -> list[int]:
    """Delete the batch's keys just before ``target.attribute`` runs (once)."""
    original = getattr(target, attribute)
    deleted: list[int] = []

    def wrapper(node: Any, items: Any, *args: Any) -> Any:
        if not deleted:
            keys = [key for group in (items.values() if isinstance(items, dict) else items)
                    for key in (group[0] if isinstance(group, tuple) else group.keys)]
            deleted.append(client.delete(*keys[::2]))
        return original(node, items, *args)

    monkeypatch.setattr(target, attribute, wrapper)
    return deleted


@pytest.mark.parametrize("when", ["before_read", "between_rounds"])
def test_keys_deleted_mid_scan(client: redis.Redis, app_name: str, redis_url: str,
                               monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    for _ in range(10):
        rid = write_result(client, app_name, value=value_hash(), extra=1)
        client.hset(rkey(app_name, rid, "metadata"), "k", jb(1))
        client.sadd(rkey(app_name, rid, "children"), uuid.uuid4().bytes)
    client.hset(f"{app_name}.mognet.state.r1", "k", jb(1))
    lab = mognet_lab.connect(redis_url, app=app_name)
    if when == "before_read":
        from mognet_lab import scanner
        deleted = _delete_before(monkeypatch, client, scanner, "fetch_batch")
    else:
        deleted = _delete_before(monkeypatch, client, fetch_module, "_resolve_types")
    try:
        snap = lab.scan(progress=False)
    finally:
        lab.close()
    assert deleted and deleted[0] > 0
    assert not _vanished_errors(snap)
    assert len(snap.keys) == 41 - deleted[0]
    assert (snap.metadata["field_count"] == 1).all() and (snap.states["field_count"] == 1).all()


def test_scan_duplicates_are_counted_once(own_db: tuple[str, redis.Redis]) -> None:
    url, conn = own_db
    app = "dups"
    for _ in range(300):
        write_result(conn, app)
    stop = threading.Event()

    def grow() -> None:
        # Inserting while SCAN runs makes Redis rehash, when SCAN may repeat keys.
        writer = redis.Redis.from_url(url)
        n = 0
        while not stop.is_set() and n < 6000:
            pipe = writer.pipeline(transaction=False)
            for _ in range(200):
                pipe.set(f"filler.{n}", "x")
                n += 1
            pipe.execute()
        writer.close()

    thread = threading.Thread(target=grow)
    lab = mognet_lab.connect(url, app=app)
    thread.start()
    try:
        snap = lab.scan(progress=False, batch=1)
    finally:
        stop.set()
        thread.join()
        lab.close()
    assert snap.keys["key"].is_unique
    assert snap.results["result_id"].is_unique and len(snap.results) == 300
    assert snap.provenance.keys_read == len(snap.keys) == 300


def test_iter_keys_drops_repeated_keys() -> None:
    from mognet_lab.reader import iter_keys

    class Pages:
        replies = [(5, [b"a", b"b", b"a"]), (9, [b"b", b"c"]), (0, [b"c", b"a", b"d"])]

        def call(self, *command: Any) -> Any:
            return self.replies.pop(0)

    seen: set[bytes] = set()
    batches = list(iter_keys(Pages(), "x*", count=10, seen=seen))  # type: ignore[arg-type]
    assert batches == [[b"a", b"b"], [b"c"], [b"d"]]
    assert seen == {b"a", b"b", b"c", b"d"}


def test_everything_bad_at_once(client: redis.Redis, app_name: str, redis_url: str,
                                good: Good) -> None:
    """All the cases above in one keyspace: one scan, one row per key, good rows intact."""
    write_result(client, app_name, name=b"not json")
    write_result(client, app_name, state="EXPLODED", number_of_starts=-3, created="never")
    _value_case(client, app_name, gzip.compress(GOOD_DOC)[:-3])
    _value_case(client, app_name, b"\x1f\x8b garbage")
    client.set(rkey(app_name, new_id()), "a string")
    client.zadd(rkey(app_name, new_id(), "metadata"), {"x": 1})
    client.sadd(rkey(app_name, new_id(), "children"), b"short")
    client.set(f"{app_name}.mognet.what", "x")
    client.hset(rkey(app_name, new_id()), "id", b"{")
    snap = scan(redis_url, app_name)
    good.check(snap)
    assert snap.keys["key"].is_unique and len(snap.keys) == 19
    assert snap.complete
    kinds = snap.keys["kind"].value_counts()
    assert kinds["result"] == 9 and kinds["value"] == 5 and kinds["unknown"] == 1
    assert snap.results["error"].notna().sum() == 4
