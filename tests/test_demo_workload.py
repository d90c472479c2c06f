"""The demo workload writer: Mognet's exact format, determinism, counts, speed.

Format is proven with the real ``mognet`` package: its own pydantic models
re-encode what the writer planned, and its ``RedisResultBackend`` reads the
keys back (read methods only: ``get_or_create`` would write).
"""

from __future__ import annotations

import asyncio
import copyreg
import dataclasses
import gzip
import json
import pickle
import struct
import time
import types
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest
import redis

from mognet.backend.backend_config import RedisResultBackendSettings, ResultBackendConfig
from mognet.backend.redis_result_backend import RedisResultBackend, _encode_result
from mognet.exceptions.result_exceptions import ResultNotReady, ResultValueLost
from mognet.exceptions.too_many_retries import TooManyRetries
from mognet.model.result import Result, ResultValueHolder, _ExceptionInfo
from mognet.tasks.task_registry import UnknownTask
from mognet.tools.kwargs_repr import format_kwargs_repr

import mognet_lab.demo
from mognet_lab.demo import Workload, WorkloadSummary, write_workload
from mognet_lab.demo.encode import (
    EXCEPTION_INFO_TYPE,
    NOT_READY_NAME,
    ResultRecord,
    _gzip,
    holder_json,
    iso_utc,
    not_ready_info,
    pickle_exception,
    result_key,
    standard_dumps,
)
from mognet_lab.demo.plan import PlannedResult, iter_plan
from mognet_lab.demo.tasks import Catalogue, kwargs_repr
from mognet_lab.embedded import EmbeddedRedis
from mognet_lab.errors import BadOption
from mognet_lab.keys import app_scan_pattern, parse_key

NOW = datetime(2026, 11, 23, 5, 10, 46, 924669, tzinfo=timezone.utc)
SPEC = Workload(app="demo_fmt", results=600, seed=7, now=NOW)
READY = ("SUCCESS", "FAILURE", "REVOKED", "INVALID")


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedRedis]:
    """A redis-server of this module's own, on a free port."""
    with EmbeddedRedis() as embedded:
        yield embedded


@pytest.fixture(scope="module")
def client(server: EmbeddedRedis) -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(server.url)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def summary(server: EmbeddedRedis) -> WorkloadSummary:
    return write_workload(server, SPEC)


@pytest.fixture(scope="module")
def plan() -> list[PlannedResult]:
    return list(iter_plan(SPEC, NOW))


def _backend(url: str, app: str) -> RedisResultBackend:
    config = ResultBackendConfig(redis=RedisResultBackendSettings(url=url))
    return RedisResultBackend(config, types.SimpleNamespace(name=app))


def _mognet_holder(value_type: str, raw_value: Any) -> ResultValueHolder:
    if value_type == EXCEPTION_INFO_TYPE:
        raw_value = _ExceptionInfo(**raw_value)
    return ResultValueHolder(value_type=value_type, raw_value=raw_value)


def _mognet_result(record: ResultRecord) -> Result:
    # No backend: the model is only serialised.
    fields = {name: getattr(record, name) for name in record.__dataclass_fields__}
    return Result(None, **fields)  # type: ignore[arg-type]


def _app_keys(client: redis.Redis, app: str) -> list[bytes]:
    return list(client.scan_iter(match=app_scan_pattern(app), count=1000))


# -- pure encoders against Mognet's own models --------------------------------


def test_public_api() -> None:
    assert {"Workload", "WorkloadSummary", "write_workload"} <= set(mognet_lab.demo.__all__)


@pytest.mark.parametrize("moment", [
    datetime(2026, 11, 23, 5, 10, 46, 924669, tzinfo=timezone.utc),
    datetime(2026, 11, 23, 5, 10, 46, tzinfo=timezone.utc),
    datetime(2026, 11, 23, 5, 10, 46, 120, tzinfo=timezone.utc),
])
def test_datetimes_as_pydantic_writes_them(moment: datetime) -> None:
    result = Result(None, id=uuid.uuid4(), created=moment)  # type: ignore[arg-type]
    dumped = json.loads(result.model_dump_json())
    assert iso_utc(moment) == dumped["created"]


def test_every_planned_record_encodes_like_mognet(plan: list[PlannedResult]) -> None:
    from mognet_lab.demo.encode import result_hash

    for planned in plan:
        record = planned.record
        assert result_hash(record) == _encode_result(_mognet_result(record))


def test_every_planned_value_encodes_like_pydantic() -> None:
    # A bigger plan than the Redis one, to meet every task, failure and pool entry.
    for planned in iter_plan(Workload(results=4000, seed=3), NOW):
        value = planned.value
        if value is not None:
            expected = _mognet_holder(value.value_type, value.raw_value).model_dump_json().encode()
            assert value.contents == expected


@contextmanager
def _standard_exception_reducers() -> Iterator[None]:
    """Mognet's own pickles as a worker writes them: dask (imported by other tests)
    installs tblib's exception reducers process-wide, so take them out meanwhile."""
    saved = dict(copyreg.dispatch_table)
    for cls in [c for c in saved if isinstance(c, type) and issubclass(c, BaseException)]:
        del copyreg.dispatch_table[cls]
    try:
        yield
    finally:
        copyreg.dispatch_table.clear()
        copyreg.dispatch_table.update(saved)


def test_placeholder_is_mognets_not_ready() -> None:
    with _standard_exception_reducers():
        theirs = ResultValueHolder.not_ready().model_dump_json().encode()
    assert holder_json(EXCEPTION_INFO_TYPE, not_ready_info()) == theirs


def test_kwargs_repr_matches_mognet() -> None:
    catalogue, rng = Catalogue(1, 100), __import__("random").Random(5)
    for task in ("demo.tasks.send_email", "demo.tasks.fan_out", "demo.tasks.build_report"):
        for _ in range(20):
            arguments = catalogue.arguments(rng, task)
            assert kwargs_repr(arguments) == format_kwargs_repr((), arguments)


@pytest.mark.parametrize("name, args, attrs, real", [
    ("builtins:ValueError", ("bad size",), None, ValueError("bad size")),
    ("builtins:KeyError", ("region",), None, KeyError("region")),
    ("builtins:TimeoutError", (), None, TimeoutError()),
    ("builtins:ConnectionError", ("503",), None, ConnectionError("503")),
    ("builtins:OSError", (28, "No space left"), None, OSError(28, "No space left")),
    (NOT_READY_NAME, (), None, ResultNotReady()),
    ("mognet.tasks.task_registry:UnknownTask", ("demo.x",), {"task_name": "demo.x"},
     UnknownTask("demo.x")),
])
def test_exception_pickles_match_the_real_classes(name: str, args: tuple, attrs: Any,
                                                  real: BaseException) -> None:
    assert pickle_exception(name, args, attrs) == standard_dumps(real)


def test_too_many_retries_pickle_matches_mognet() -> None:
    rid = uuid.UUID(int=42, version=4)
    attrs = {"request_id": rid, "max_retries": 3, "actual_retries": 4}
    ours = pickle_exception("mognet.exceptions.too_many_retries:TooManyRetries", (rid, 4, 3), attrs)
    assert ours == standard_dumps(TooManyRetries(rid, 4, 3))


@pytest.mark.parametrize("size", [0, 1, 200, 249, 250, 251, 3000, 32505, 32506, 32507, 90_000])
def test_gzip_matches_gzip_compress(size: int) -> None:
    data = bytes((i * 7919) % 61 + 32 for i in range(size))
    assert _gzip(data) == gzip.compress(data, mtime=1)


# -- what lands in Redis -------------------------------------------------------


def test_result_hashes_are_mognets_bytes(client: redis.Redis, summary: WorkloadSummary,
                                         plan: list[PlannedResult]) -> None:
    for planned in plan:
        record = planned.record
        stored = client.hgetall(result_key(SPEC.app, record.id))
        expected = _encode_result(_mognet_result(record))
        assert stored == {name.encode(): value for name, value in expected.items()}


def test_value_hashes_are_mognets_bytes(client: redis.Redis, summary: WorkloadSummary,
                                        plan: list[PlannedResult]) -> None:
    checked = 0
    for planned in plan:
        stored = client.hgetall(result_key(SPEC.app, planned.record.id, "value"))
        if not stored:
            continue
        value = planned.value
        assert value is not None
        assert stored[b"encoding"] == b'"gzip"' and stored[b"content_type"] == b'"application/json"'
        contents = stored[b"contents"]
        assert struct.unpack("<I", contents[4:8])[0] == int(value.written_at.timestamp())
        expected = _mognet_holder(value.value_type, value.raw_value).model_dump_json().encode()
        assert gzip.decompress(contents) == expected
        checked += 1
    assert checked == summary.keys_by_kind["value"]


def test_mognet_backend_reads_everything_back(server: EmbeddedRedis, summary: WorkloadSummary,
                                              plan: list[PlannedResult]) -> None:
    async def read_all() -> tuple[int, int]:
        backend = _backend(server.url, SPEC.app)
        await backend.connect()
        values = lost = 0
        try:
            for planned in plan:
                result = await backend.get(planned.record.id)
                assert result is not None
                for name in planned.record.__dataclass_fields__:
                    got = getattr(result, name)
                    assert (got.value if name == "state" else got) == getattr(planned.record, name)
                # Within a 10-day span no children set or metadata hash has expired.
                ids = [child async for child in backend.iterate_children_ids(planned.record.id)]
                assert sorted(ids) == sorted(planned.children)
                assert await backend.get_metadata(planned.record.id) == (planned.metadata or {})
                try:
                    holder = await backend.get_value(planned.record.id)
                except ResultValueLost:
                    lost += 1
                    continue
                values += 1
                _check_holder(holder, planned)
        finally:
            await backend.close()
        return values, lost

    values, lost = asyncio.run(read_all())
    assert values == summary.keys_by_kind["value"]
    assert lost == summary.values_by_status.get("lost", 0) + summary.values_by_status.get("none", 0)


def _check_holder(holder: ResultValueHolder, planned: PlannedResult) -> None:
    value = planned.value
    assert value is not None
    assert holder.value_type == value.value_type
    if value.value_type == EXCEPTION_INFO_TYPE:
        info = holder.deserialize()  # an _ExceptionInfo model; never touch .exception (unpickles)
        assert (info.name, info.message, info.traceback) == \
            (value.raw_value["name"], value.raw_value["message"], value.raw_value["traceback"])
    else:
        assert holder.deserialize() == value.raw_value


def test_summary_matches_redis(client: redis.Redis, summary: WorkloadSummary) -> None:
    keys = _app_keys(client, SPEC.app)
    kinds: dict[str, int] = {}
    for key in keys:
        kind = parse_key(SPEC.app, key).kind
        kinds[kind] = kinds.get(kind, 0) + 1
    assert kinds == summary.keys_by_kind
    assert summary.keys == len(keys) and summary.results == SPEC.results
    assert sum(summary.results_by_state.values()) == SPEC.results
    assert sum(summary.values_by_status.values()) == SPEC.results
    no_ttl = [key for key in keys if client.pttl(key) == -1]
    assert len(no_ttl) == summary.keys_without_ttl == summary.placeholders_without_ttl
    assert all(key.endswith(b"/value") for key in no_ttl)
    states: dict[str, int] = {}
    for key in keys:
        if parse_key(SPEC.app, key).kind == "result":
            state = json.loads(client.hget(key, "state"))
            states[state] = states.get(state, 0) + 1
    assert states == summary.results_by_state
    edges = sum(client.scard(key) for key in keys if key.endswith(b"/children"))
    assert edges == summary.children_edges


def test_ttls_look_written_at_their_time(client: redis.Redis, summary: WorkloadSummary,
                                         plan: list[PlannedResult]) -> None:
    result_ttl_ms, value_ttl_ms = 21 * 86400_000, 7 * 86400_000
    limits = {"result": result_ttl_ms, "children": result_ttl_ms, "metadata": result_ttl_ms,
              "value": value_ttl_ms, "state": SPEC.state_ttl_s * 1000}
    for key in _app_keys(client, SPEC.app):
        kind = parse_key(SPEC.app, key).kind
        ttl_ms = client.pttl(key)
        assert ttl_ms == -1 or 0 < ttl_ms <= limits[kind]
    by_id = {p.record.id: p for p in plan}
    for planned in list(by_id.values())[:50]:
        ttl_ms = client.pttl(result_key(SPEC.app, planned.record.id))
        expected_ms = result_ttl_ms - (NOW - planned.result_at) / timedelta(milliseconds=1)
        assert abs(ttl_ms - expected_ms) < 120_000


def test_realistic_mix(summary: WorkloadSummary, plan: list[PlannedResult]) -> None:
    states = summary.results_by_state
    assert states["SUCCESS"] > 0.7 * SPEC.results
    assert {"FAILURE", "REVOKED", "RUNNING"} <= set(states)
    assert summary.children_edges > 0 and summary.metadata_hashes > 0.2 * SPEC.results
    assert summary.placeholders_without_ttl > 0 and summary.expired_values > 0
    assert summary.unexpected_retries > 0
    assert {p.record.node_id for p in plan} >= {"worker-1", "worker-2", "worker-3", "worker-4"}
    parents = {p.record.id: p for p in plan if p.children}
    children = [(p.record.id, p.record.parent_id) for p in plan if p.record.parent_id is not None]
    assert children and all(child in parents[parent].children for child, parent in children)


def test_follows_mognets_write_paths() -> None:
    """Fields that only Mognet's own code paths would produce, over a larger plan."""
    plan = list(iter_plan(Workload(results=5000, seed=4), NOW))
    seen: set[str] = set()
    for planned in plan:
        record, value = planned.record, planned.value
        if record.state == "INVALID":  # rejected before Result.start()
            assert (record.started, record.node_id, record.number_of_starts) == (None, None, 0)
            assert value is not None and value.raw_value["name"].endswith(":UnknownTask")
            seen.add("invalid")
        if value is not None and value.is_placeholder:
            assert record.state in ("REVOKED", "SUSPENDED", "RUNNING")
            if value.ttl_from is None:
                seen.add("placeholder_without_ttl")
        if record.name is None:  # App.revoke on an id with no result
            assert record.state == "REVOKED" and record.created is None
            seen.add("revoked_unknown_id")
        if record.state == "SUCCESS":
            assert record.number_of_stops == 1 and record.number_of_starts >= 1
        if value is not None and value.raw_value.__class__ is dict and \
                value.raw_value.get("name", "").endswith(":TooManyRetries"):
            assert (record.number_of_starts, record.number_of_stops) == (4, 1)
            seen.add("too_many_retries")
        if planned.state is not None and record.state in READY:
            assert record.state == "REVOKED"  # only App.revoke leaves task state behind
            seen.add("state_of_finished")
    assert seen == {"invalid", "placeholder_without_ttl", "revoked_unknown_id", "too_many_retries",
                    "state_of_finished"}


def test_long_span_leaves_orphan_placeholders(server: EmbeddedRedis, client: redis.Redis) -> None:
    # Results older than 21 days are gone, but their TTL-less placeholders stay.
    written = write_workload(server, Workload(app="old", results=600, seed=2, now=NOW,
                                              span=timedelta(days=40)))
    assert written.orphan_keys > 0
    keys = _app_keys(client, "old")
    orphans = [k for k in keys if k.endswith(b"/value")
               and not client.exists(k[: -len(b"/value")])]
    assert len(orphans) == written.orphan_keys
    assert all(client.pttl(k) == -1 for k in orphans)


def test_same_seed_same_data(server: EmbeddedRedis, client: redis.Redis) -> None:
    first = Workload(app="det_a", results=300, seed=11, now=NOW)
    second = Workload(app="det_b", results=300, seed=11, now=NOW)
    summary_a, summary_b = write_workload(server, first), write_workload(server, second)
    assert dataclasses.replace(summary_a, app="x") == dataclasses.replace(summary_b, app="x")
    dump_a, dump_b = _dump(client, "det_a"), _dump(client, "det_b")
    assert dump_a.keys() == dump_b.keys()
    for key, (data_a, ttl_a) in dump_a.items():
        data_b, ttl_b = dump_b[key]
        assert data_a == data_b
        assert (ttl_a == -1) == (ttl_b == -1) and abs(ttl_a - ttl_b) < 60_000


def _dump(client: redis.Redis, app: str) -> dict[bytes, tuple[Any, int]]:
    out = {}
    prefix = f"{app}.".encode()
    for key in _app_keys(client, app):
        kind = client.type(key)
        data = client.smembers(key) if kind == b"set" else client.hgetall(key)
        out[key[len(prefix):]] = (data, client.pttl(key))
    return out


def test_different_seeds_differ() -> None:
    first = [p.record for p in iter_plan(Workload(results=50, seed=1), NOW)]
    second = [p.record for p in iter_plan(Workload(results=50, seed=2), NOW)]
    assert first != second


def test_small_write_is_fast(server: EmbeddedRedis) -> None:
    began = time.perf_counter()
    written = write_workload(server, Workload(app="fast", results=250, seed=5))
    assert written.results == 250
    assert time.perf_counter() - began < 5.0


def test_uncompressed_values(server: EmbeddedRedis, client: redis.Redis) -> None:
    plain = Workload(app="plain", results=100, seed=9, now=NOW, gzip=False)
    written = write_workload(server, plain)
    values = [key for key in _app_keys(client, "plain") if key.endswith(b"/value")]
    assert len(values) == written.keys_by_kind["value"]
    for key in values:
        stored = client.hgetall(key)
        assert stored[b"encoding"] == b"null"
        ResultValueHolder.model_validate_json(stored[b"contents"])


def test_refuses_anything_but_embedded_redis(server: EmbeddedRedis) -> None:
    plain = redis.Redis.from_url(server.url)
    try:
        with pytest.raises(TypeError, match="EmbeddedRedis"):
            write_workload(plain, Workload(app="refused", results=5))  # type: ignore[arg-type]
        assert not list(plain.scan_iter(match=app_scan_pattern("refused")))
    finally:
        plain.close()
    with pytest.raises(TypeError):
        write_workload(server.url, Workload(app="refused", results=5))  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [
    {"results": -1},
    {"now": datetime(2026, 11, 23, 5, 0)},
    {"span": timedelta(0)},
    {"value_ttl_s": 0},
])
def test_rejects_bad_settings(server: EmbeddedRedis, bad: dict[str, Any]) -> None:
    with pytest.raises(BadOption):
        write_workload(server, Workload(app="bad", **bad))
