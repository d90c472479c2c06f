"""What one key may pull is bounded by bytes, whatever its shape (a real redis-server)."""

from __future__ import annotations

import gzip
import json
import os
import time
import uuid
import warnings
from typing import Any, Callable

import pandas as pd
import pytest
import redis

import mognet_lab

MIB = 1 << 20


def _result(client: redis.Redis, app: str, **extra: Any) -> str:
    rid = str(uuid.uuid4())
    fields = {"id": json.dumps(rid), "name": '"t.big"', "state": '"SUCCESS"',
              "number_of_starts": "1", "number_of_stops": "1", **extra}
    client.hset(f"{app}.mognet.result.{rid}", mapping=fields)
    return rid


def _sent(client: redis.Redis, action: Callable[[], Any]) -> tuple[Any, int]:
    """``action()`` and the bytes the server sent meanwhile (this test's server only)."""
    before = client.info("stats")["total_net_output_bytes"]
    found = action()
    return found, client.info("stats")["total_net_output_bytes"] - before


def _scan(url: str, app: str, **settings: Any) -> mognet_lab.Snapshot:
    lab = mognet_lab.connect(url, app=app)
    try:
        return lab.scan(progress=False, settings=mognet_lab.ScanSettings(**settings))
    finally:
        lab.close()


def test_huge_request_kwargs_repr_is_measured_not_read(redis_url: str, client: redis.Redis,
                                                       app_name: str) -> None:
    big = _result(client, app_name, request_kwargs_repr=json.dumps("x" * (3 * MIB)))
    small = _result(client, app_name, request_kwargs_repr='"a=1"')
    snapshot, sent = _sent(client, lambda: _scan(redis_url, app_name))
    results = snapshot.results.set_index("result_id")
    assert pd.isna(results.loc[big, "request_kwargs_repr"])
    assert "request_kwargs_repr' of 3145730 bytes" in results.loc[big, "error"]
    assert results.loc[big, "state"] == "SUCCESS"  # the rest of the row is read
    assert results.loc[small, "request_kwargs_repr"] == "a=1"
    assert sent < MIB  # the 3 MB field never crossed the wire


def test_hash_past_max_key_bytes_is_not_read_whole(redis_url: str, client: redis.Redis,
                                                   app_name: str) -> None:
    rid = _result(client, app_name)
    key = f"{app_name}.mognet.result.{rid}/metadata"
    client.hset(key, mapping={f"f{i}": json.dumps("y" * 10_000) for i in range(300)})
    snapshot, sent = _sent(client, lambda: _scan(redis_url, app_name, max_key_bytes=MIB))
    row = snapshot.metadata.set_index("result_id").loc[rid]
    assert "more than max_key_bytes=1048576: not read" in row["error"]
    assert "about" in row["error"]
    assert sent < 200_000  # 3 MB of fields stayed on the server
    assert _scan(redis_url, app_name).metadata.set_index("result_id").loc[rid, "field_count"] \
        == 300  # under the default limit it is read


def test_value_with_an_extra_field_never_pulls_huge_contents(redis_url: str,
                                                             client: redis.Redis,
                                                             app_name: str) -> None:
    rid = _result(client, app_name)
    document = json.dumps({"value_type": "builtins:str", "raw_value": os.urandom(MIB).hex()})
    contents = gzip.compress(document.encode(), compresslevel=1)
    client.hset(f"{app_name}.mognet.result.{rid}/value",
                mapping={"contents": contents, "encoding": '"gzip"',
                         "content_type": '"application/json"', "extra": "1",
                         "huge_extra": "z" * (2 * MIB)})
    snapshot, sent = _sent(client, lambda: _scan(redis_url, app_name))
    value = snapshot.values.set_index("result_id").loc[rid]
    # Read by name: contents measured from head and trailer, the small extra field read,
    # the 2 MiB one left on the server with its name in the error cell.
    assert int(value["stored_bytes"]) == len(contents) and value["value_type"] == "builtins:str"
    assert int(value["raw_bytes"]) == len(document)
    assert "'extra'" in value["error"] and "huge_extra" in value["error"]
    version = tuple(int(p) for p in client.info("server")["redis_version"].split(".")[:2])
    assert sent < (200_000 if version >= (7, 0) else len(contents) + 200_000)


def test_children_past_max_edges_keep_the_true_count(redis_url: str, client: redis.Redis,
                                                     app_name: str) -> None:
    parent = _result(client, app_name)
    key = f"{app_name}.mognet.result.{parent}/children"
    members = [uuid.uuid4().bytes for _ in range(30_000)]
    for start in range(0, len(members), 5000):
        client.sadd(key, *members[start:start + 5000])
    snapshot = _scan(redis_url, app_name, max_members_per_call=1000, max_edges_per_parent=2500)
    edges = snapshot.children[snapshot.children["parent_id"] == parent]
    assert 2500 == len(edges) and edges["child_id"].notna().all()
    assert edges["child_id"].isin([str(uuid.UUID(bytes=m)) for m in members]).all()
    assert int(snapshot.results.set_index("result_id").loc[parent, "children_count"]) == 30_000
    assert "30000 members" in snapshot.keys.set_index("key").loc[key, "error"]


def test_round_trips_split_by_reply_bytes_give_the_same_frames(redis_url: str,
                                                               client: redis.Redis,
                                                               app_name: str) -> None:
    for _ in range(40):
        rid = _result(client, app_name, request_kwargs_repr=json.dumps("k" * 20_000))
        document = json.dumps({"value_type": "builtins:str", "raw_value": "v" * 3000}).encode()
        client.hset(f"{app_name}.mognet.result.{rid}/value",
                    mapping={"contents": gzip.compress(document), "encoding": '"gzip"',
                             "content_type": '"application/json"'})
    whole = _scan(redis_url, app_name)
    split = _scan(redis_url, app_name, max_batch_bytes=30_000)  # a request or two per trip
    for name in ("results", "values"):
        # TTLs count down and MEMORY USAGE of large hashes moves a little between scans.
        moving = [c for c in whole.frames[name].columns if c == "ttl_s" or "memory" in c]
        left = whole.frames[name].drop(columns=moving).sort_values("result_id",
                                                                  ignore_index=True)
        right = split.frames[name].drop(columns=moving).sort_values("result_id",
                                                                   ignore_index=True)
        pd.testing.assert_frame_equal(left, right, check_exact=True)
    assert whole.results["request_kwargs_repr"].str.len().eq(20_000).all()


def test_metadata_names_that_do_not_recur_stay_out_of_the_columns(
        redis_url: str, client: redis.Redis, app_name: str) -> None:
    rids = [_result(client, app_name) for _ in range(2000)]
    with client.pipeline(transaction=False) as pipe:
        for rid in rids:
            fields = {f"req_{uuid.uuid4().hex[:12]}": json.dumps(1) for _ in range(10)}
            pipe.hset(f"{app_name}.mognet.result.{rid}/metadata",
                      mapping={**fields, "user": json.dumps("ann")})
        pipe.execute()
    metadata = _scan(redis_url, app_name).metadata
    declared = set(mognet_lab.schemas.SCHEMAS["metadata"])
    assert set(metadata.columns) - declared == {"user"}  # 20,000 one-off names: no columns
    assert (metadata["user"] == "ann").all()
    others = [json.loads(text) for text in metadata["other_fields"]]
    assert all(len(row) == 10 for row in others) and (metadata["field_count"] == 11).all()
    assert all(name.startswith("req_") for row in others for name in row)


def test_few_metadata_names_all_get_columns(redis_url: str, client: redis.Redis,
                                            app_name: str) -> None:
    rid = _result(client, app_name)
    client.hset(f"{app_name}.mognet.result.{rid}/metadata",
                mapping={"user": json.dumps("ann"), "once": json.dumps({"a": 1})})
    metadata = _scan(redis_url, app_name).metadata
    assert metadata.loc[0, "user"] == "ann" and metadata.loc[0, "once.a"] == 1
    assert pd.isna(metadata.loc[0, "other_fields"])


@pytest.mark.parametrize(("overlap", "headroom"), [(None, MIB), (None, MIB // 4), (True, MIB)])
def test_a_scan_at_the_maxmemory_edge_is_gentle(overlap: bool | None, headroom: int) -> None:
    from mognet_lab.demo import Workload, write_workload
    from mognet_lab.embedded import EmbeddedRedis

    with EmbeddedRedis(extra_args=["--maxmemory-policy", "allkeys-lru"]) as server:
        client = redis.Redis.from_url(server.url)
        write_workload(server, Workload(app="edge", results=5_000, seed=2))
        for i in range(20):  # values whose replies would matter against the headroom
            document = json.dumps({"value_type": "builtins:str",
                                   "raw_value": os.urandom(300_000).hex()}).encode()
            client.hset(f"edge.mognet.result.{uuid.uuid4()}/value", mapping={
                "contents": gzip.compress(document, compresslevel=1), "encoding": '"gzip"',
                "content_type": '"application/json"'})
        time.sleep(1)  # the writer's buffers are given back first
        lab = mognet_lab.connect(server.url, app="edge")
        # The test's own server, set just above what it holds: a Redis at its edge.
        client.config_set("maxmemory", client.info("memory")["used_memory"] + headroom)
        before = client.info("stats")["evicted_keys"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # below 7.2 the LRU warning is expected here
            snapshot = lab.scan(progress=False,
                                settings=mognet_lab.ScanSettings(overlap=overlap))
        evicted = client.info("stats")["evicted_keys"] - before
        lab.close()
        if overlap is None:  # chosen by the scan: gentle, since the server is at its edge
            if headroom >= MIB:  # with less room some keys are still evicted: bench/README.md
                assert evicted == 0 and len(snapshot.keys) == client.dbsize()
            assert snapshot.provenance.complete
            values = snapshot.values
            left = values["error"].fillna("").str.contains("max_contents_bytes")
            # Contents over a quarter of the room left stay on the server, said per row,
            # with their size and no made-up raw size.
            assert values.loc[left, "stored_bytes"].min() > headroom // 8
            assert left[values["stored_bytes"] > headroom // 2].all()
            assert left.sum() >= 20 and values.loc[left, "raw_bytes"].isna().all()
            assert not values.loc[left, "readable"].any()
        else:  # forced to overlap and fetch values whole: the replies push Redis over
            assert evicted > 0
