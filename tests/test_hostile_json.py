"""A whole scan over JSON nested far past the parser's recursion limit.

Before the decoders shared one JSON helper, each of these keys raised
RecursionError out of ``Lab.scan()``. Now each gets an ``error`` cell and
the well-formed family next to them reads exactly right.
"""

from __future__ import annotations

import gzip
import json

import pandas as pd
import redis

from mognet_lab.decode.common import MAX_JSON_DEPTH
from test_bad_input import Good, jb, new_id, rkey, row, scan, value_hash, write_result

DEEP = 100_000  # far past sys.getrecursionlimit() and the C parser's own limit
DEEP_LIST = b"[" * DEEP + b"]" * DEEP
DEEP_DICT = b'{"a":' * DEEP + b"1" + b"}" * DEEP
TOO_DEEP = f"nested more than {MAX_JSON_DEPTH} levels deep"
# Value documents are parsed whole only below the scan's head_bytes (4 KiB):
# 1,900 levels is still past the parser's recursion limit (1,000).
SMALL_DEEP_LIST = b"[" * 1_900 + b"]" * 1_900
SMALL_DEEP_DICT = b'{"a":' * 600 + b"1" + b"}" * 600


def _doc(raw_value: bytes) -> bytes:
    return b'{"value_type":"builtins:list","raw_value":' + raw_value + b"}"


def test_scan_survives_deep_json_everywhere(client: redis.Redis, app_name: str,
                                            redis_url: str) -> None:
    good = Good(client, app_name)
    in_name = write_result(client, app_name, name=DEEP_LIST)
    in_kwargs = write_result(client, app_name, request_kwargs_repr=DEEP_DICT)
    in_time = write_result(client, app_name, started=DEEP_LIST)
    in_extra = write_result(client, app_name, extra_field=DEEP_DICT)
    meta_owner = write_result(client, app_name)
    client.hset(rkey(app_name, meta_owner, "metadata"),
                mapping={"ok": jb(1), "deep": DEEP_DICT, "deep_list": DEEP_LIST})
    request_id = new_id()
    client.hset(f"{app_name}.mognet.state.{request_id}",
                mapping={"step": jb(4), "deep": DEEP_LIST})
    gz_value = write_result(client, app_name, value=value_hash(_doc(SMALL_DEEP_LIST)))
    plain_value = write_result(client, app_name,
                               value=value_hash(_doc(SMALL_DEEP_DICT), gz=False))
    big_value = write_result(client, app_name, value=value_hash(_doc(DEEP_LIST)))
    # Just at the limit is still read.
    at_limit = write_result(client, app_name,
                            value=value_hash(_doc(b"[" * (MAX_JSON_DEPTH - 1)
                                                  + b"]" * (MAX_JSON_DEPTH - 1))))

    snap = scan(redis_url, app_name)

    assert snap.complete
    good.check(snap)
    for rid, field in ((in_name, "name"), (in_kwargs, "request_kwargs_repr"),
                       (in_time, "started"), (in_extra, "extra_field")):
        result = row(snap.results, "result_id", rid)
        assert f"field {field!r} is {TOO_DEEP}" in result["error"], result["error"]
        assert result["state"] == "SUCCESS"  # the other fields still read
    assert json.loads(row(snap.results, "result_id", in_extra)["extra_fields"]) == \
        {"extra_field": DEEP_DICT.decode()}
    meta = row(snap.metadata, "result_id", meta_owner)
    assert f"field 'deep' is {TOO_DEEP}" in meta["error"]
    assert f"field 'deep_list' is {TOO_DEEP}" in meta["error"]
    assert meta["ok"] == 1 and meta["deep"] == DEEP_DICT.decode()
    state = row(snap.states, "request_id", request_id)
    assert f"field 'deep' is {TOO_DEEP}" in state["error"]
    assert json.loads(state["fields"])["step"] == 4
    for rid, document in ((gz_value, _doc(SMALL_DEEP_LIST)),
                          (plain_value, _doc(SMALL_DEEP_DICT))):
        value = row(snap.values, "result_id", rid)
        assert value["error"] == f"contents are {TOO_DEEP}"
        assert value["raw_bytes"] == len(document)  # the size is still known
        assert row(snap.results, "result_id", rid)["value_status"] == "unreadable"
    # A document larger than head_bytes is only read for its leading fields.
    value = row(snap.values, "result_id", big_value)
    assert value["value_type"] == "builtins:list" and value["raw_bytes"] == len(_doc(DEEP_LIST))
    value = row(snap.values, "result_id", at_limit)
    assert pd.isna(value["error"]) and value["value_type"] == "builtins:list"


def test_lab_value_of_deep_json(client: redis.Redis, app_name: str, redis_url: str) -> None:
    import mognet_lab

    rid = write_result(client, app_name, value=value_hash(_doc(DEEP_LIST)))
    with mognet_lab.connect(redis_url, app=app_name) as lab:
        view = lab.value(rid, max_bytes=10 * DEEP)
    assert view.status == "unreadable" and view.error == f"contents are {TOO_DEEP}"
    assert gzip.decompress(value_hash(_doc(DEEP_LIST))["contents"]).startswith(
        view.text.encode()[:100])
    repr(view), view._repr_html_()
