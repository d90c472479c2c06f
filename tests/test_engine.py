"""The scan engine: pipelined walk, typed chunks, SCAN duplicates, clipping thresholds."""

from __future__ import annotations

import gzip
import json
import random
import uuid
from typing import Any

import numpy as np
import pandas as pd
import pytest
import redis

import mognet_lab
from mognet_lab import schemas
from mognet_lab.chunks import ChunkedFrame
from mognet_lab.demo import Workload, write_workload
from mognet_lab.embedded import EmbeddedRedis
from mognet_lab.reader import seen as seen_module
from mognet_lab.reader.seen import SeenKeys


@pytest.fixture(scope="module")
def workload_server() -> Any:
    with EmbeddedRedis() as server:
        write_workload(server, Workload(app="engine", results=1500, seed=11))
        yield server


def _scan(url: str, **settings: Any) -> mognet_lab.Snapshot:
    lab = mognet_lab.connect(url, app="engine")
    try:
        return lab.scan(progress=False, settings=mognet_lab.ScanSettings(**settings))
    finally:
        lab.close()


def test_tiny_batches_and_pages_give_the_same_frames(workload_server: EmbeddedRedis) -> None:
    # Hundreds of pipelined batches, pages smaller than batches and the other way round.
    reference = _scan(workload_server.url)
    for options in ({"batch": 7, "scan_count": 5}, {"batch": 50, "scan_count": 400}):
        other = _scan(workload_server.url, **options)
        for name in ("keys", "results", "values", "children", "states"):
            left, right = reference.frames[name], other.frames[name]
            if name != "keys":
                order = [c for c in ("result_id", "request_id", "parent_id", "child_id")
                         if c in left.columns]
                left = left.sort_values(order, ignore_index=True)
                right = right.sort_values(order, ignore_index=True)
            # MEMORY USAGE of a hash table being rehashed moves as it is read (Redis
            # itself, scan to scan): those columns agree within a few percent.
            # TTLs count down between the two scans.
            memory = [c for c in left.columns if "memory_bytes" in c]
            moving = [*memory, "ttl_s"] if "ttl_s" in left.columns else memory
            pd.testing.assert_frame_equal(left.drop(columns=moving), right.drop(columns=moving),
                                          check_exact=True)
            for column in moving:
                a, b = left[column].astype(float), right[column].astype(float)
                close = (a - b).abs() <= (0.25 * a.abs() + 512 if column in memory else 60)
                assert (close | (a.isna() & b.isna())).all(), column


def test_limit_reads_exactly_that_many_keys(workload_server: EmbeddedRedis) -> None:
    snapshot = _scan(workload_server.url, limit=333, batch=100, scan_count=70)
    assert len(snapshot.keys) == 333
    assert snapshot.provenance.complete is False


def test_scan_pages_use_scan_count(workload_server: EmbeddedRedis) -> None:
    client = redis.Redis.from_url(workload_server.url)
    before = client.info("commandstats").get("cmdstat_scan", {}).get("calls", 0)
    _scan(workload_server.url, scan_count=100)
    calls = client.info("commandstats")["cmdstat_scan"]["calls"] - before
    keys = client.dbsize()
    # SCAN visits about COUNT buckets per call: at least keys/COUNT calls, and far
    # fewer than with COUNT 10.
    assert keys / 100 * 0.5 <= calls <= keys / 10


def _value(size: int) -> dict[str, bytes]:
    document = json.dumps({"value_type": "builtins:str",
                           "raw_value": random.Random(size).randbytes(size).hex()}).encode()
    return {"contents": gzip.compress(document), "encoding": b'"gzip"',
            "content_type": b'"application/json"'}


@pytest.mark.parametrize("stored", [20_000, 3_000_000])
def test_large_values_are_clipped_by_size(redis_url: str, client: redis.Redis, app_name: str,
                                          stored: int) -> None:
    rid = str(uuid.uuid4())
    value = _value(stored // 2)  # hex of random bytes: about 2 bytes of gzip per byte
    client.hset(f"{app_name}.mognet.result.{rid}/value", mapping=value)
    size = len(value["contents"])
    lab = mognet_lab.connect(redis_url, app=app_name)
    info = client.info("commandstats")
    scripts = info.get("cmdstat_evalsha_ro", {}).get("calls", 0)
    sent = client.info("stats")["total_net_output_bytes"]
    values = lab.scan(progress=False).values
    sent = client.info("stats")["total_net_output_bytes"] - sent
    scripts = client.info("commandstats").get("cmdstat_evalsha_ro", {}).get("calls", 0) - scripts
    assert values["raw_bytes_source"].tolist() == ["gzip_trailer"]
    assert int(values["stored_bytes"].iloc[0]) == size
    version = tuple(int(p) for p in client.info("server")["redis_version"].split(".")[:2])
    # Each scan first runs the script once with no keys: a check that the server allows it.
    if size > mognet_lab.ScanSettings().server_clip_bytes and version >= (7, 0):
        assert scripts >= 2 and sent < size // 4  # only head and trailer crossed the wire
    else:
        assert scripts <= 1 and sent > size  # fetched whole, clipped by mognet_lab


def _random_rows(rng: random.Random, count: int) -> list[dict[str, Any]]:
    rows = []
    for _ in range(count):
        row: dict[str, Any] = {"result_id": str(uuid.UUID(int=rng.getrandbits(128)))}
        if rng.random() < 0.8:
            row["value_type"] = rng.choice(["builtins:dict", "builtins:int", None])
        row["stored_bytes"] = rng.choice([None, rng.randrange(10**6)])
        row["compression_ratio"] = rng.choice([None, rng.random() * 10, 3])
        row["readable"] = rng.choice([True, False, None])
        if rng.random() < 0.3:
            row["extra"] = rng.choice(["x", 1, None, 2.5])
        rows.append(row)
    return rows


def test_chunked_frame_equals_conform_of_the_same_rows() -> None:
    rng = random.Random(5)
    rows = _random_rows(rng, 3000)
    frame = ChunkedFrame("values")
    for start in range(0, len(rows), 250):
        part = rows[start:start + 250]
        names = list(dict.fromkeys(name for row in part for name in row))
        frame.append({name: [row.get(name) for row in part] for name in names}, len(part))
    names = list(dict.fromkeys(name for row in rows for name in row))
    expected = schemas.conform("values", {name: [row.get(name) for row in rows]
                                          for name in names})
    pd.testing.assert_frame_equal(frame.finish(), expected, check_exact=True)


def test_seen_keys_drops_repeats_across_spills(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seen_module, "_SET_LIMIT", 64)  # many runs, merged often
    keys = [b"k%d" % i for i in range(5000)]
    rng = random.Random(1)
    seen, out = SeenKeys(), []
    for start in range(0, len(keys), 37):
        page = keys[start:start + 37] + rng.sample(keys[:start + 37], 5)
        out.extend(seen.fresh(page))
    assert sorted(out) == sorted(keys)
    assert seen.count == len(keys)
    assert len(seen._runs) >= 2 and all(np.all(np.diff(r) > 0) for r in seen._runs)
