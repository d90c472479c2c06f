"""Compatibility with a real Mognet App: broker (RabbitMQ), worker, tasks.

A real ``mognet.App`` with its in-process worker runs real tasks (a dict
return, a parent submitting subtasks, a failure, a revoked stateful task, a
completed stateful task, context.set_metadata). Then the App is stopped, and
the scan by mognet_lab must agree with what the App itself reports through
its result backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pytest
import redis

import mognet_lab
from mognet import App, AppConfig, Context
from mognet.backend.backend_config import RedisResultBackendSettings, ResultBackendConfig
from mognet.broker.broker_config import AmqpBrokerSettings, BrokerConfig
from mognet.exceptions.result_exceptions import ResultValueLost
from mognet.model.result_state import READY_STATES
from mognet.state.state_backend_config import RedisStateBackendSettings, StateBackendConfig
from mognet.tasks.task_registry import TaskRegistry
from mognet_writer import (
    EXCEPTION_INFO_TYPE,
    NOT_READY_NAME,
    RESULT_TTL_S,
    STATE_TTL_S,
    between,
    json_cell,
    row_mismatches,
    unique_app_name,
)

pytestmark = [
    pytest.mark.rabbitmq,
    # Mognet's worker calls pydantic's validate_call with a class-based config.
    pytest.mark.filterwarnings("ignore::pydantic.PydanticDeprecatedSince20"),
]

RUN_TIMEOUT_S = 45
STATEFUL_FIELDS = {"progress": 1, "cursor": {"page": 3, "done": False}}


# -- the tasks (module level, so pydantic can resolve their annotations) -------
async def returns_dict(context: Context, n: int) -> dict:
    return {"n": n, "squares": [i * i for i in range(n)]}


async def add(context: Context, a: int, b: int) -> int:
    return a + b


async def parent(context: Context, n: int) -> list:
    subtasks = [await context.submit(context.create_request(add, i, 10)) for i in range(n)]
    return await context.gather(*subtasks)


async def raises(context: Context, x: int) -> None:
    raise ValueError(f"bad x={x}")


async def stateful_forever(context: Context) -> None:
    for key, value in STATEFUL_FIELDS.items():
        await context.state.set(key, value)
    await asyncio.sleep(60)  # revoked long before this


async def stateful_done(context: Context) -> str:
    await context.state.set("step", 1)
    return "state cleared on completion"


async def with_metadata(context: Context) -> str:
    await context.set_metadata(stage="done", rows=12, extra={"source": "ctx"})
    return "ok"


TASKS = (returns_dict, add, parent, raises, stateful_forever, stateful_done, with_metadata)


# -- running the App -----------------------------------------------------------
@dataclass
class AppView:
    """What the App reports through its own result backend, after the run."""

    app: str
    node_id: str
    ids: dict[str, uuid.UUID]
    results: dict[uuid.UUID, Any] = field(default_factory=dict)
    children: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)
    metadata: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    # None where the value key does not exist (ResultValueLost).
    values: dict[uuid.UUID, Any] = field(default_factory=dict)


def _config(app: str, redis_url: str, amqp_url: str) -> AppConfig:
    return AppConfig(
        node_id=f"{app}@mognet-lab-test",
        result_backend=ResultBackendConfig(redis=RedisResultBackendSettings(url=redis_url)),
        state_backend=StateBackendConfig(redis=RedisStateBackendSettings(url=redis_url)),
        broker=BrokerConfig(amqp=AmqpBrokerSettings(url=amqp_url, retry_connect_attempts=2)),
        default_task_route="tasks",
    )


async def _until(predicate: Any, what: str, timeout_s: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _submit_all(app: App) -> dict[str, uuid.UUID]:
    ids: dict[str, uuid.UUID] = {}
    waits = {}
    for role, request in (
        ("dict", app.create_request(returns_dict, 4)),
        ("parent", app.create_request(parent, 3)),
        ("failure", app.create_request(raises, 7)),
        ("stateful_done", app.create_request(stateful_done)),
        ("metadata", app.create_request(with_metadata)),
    ):
        if role == "metadata":
            request.metadata = {"origin": "test", "batch": {"size": 2}}
        res = await app.submit(request)
        ids[role] = res.id
        waits[role] = res
    for res in waits.values():
        await res.wait(timeout=20)

    res = await app.submit(app.create_request(stateful_forever))
    ids["revoked"] = res.id

    async def running() -> bool:
        return await app.state_backend.get(res.id, "cursor") is not None

    await _until(running, "the stateful task to write its state")
    await app.revoke(res.id)

    async def cancelled() -> bool:
        return app.worker is not None and res.id not in app.worker.running_tasks

    await _until(cancelled, "the worker to cancel the revoked task")
    return ids


async def _read_view(app: App, ids: dict[str, uuid.UUID]) -> AppView:
    view = AppView(app=app.name, node_id=app.config.node_id, ids=dict(ids))
    pending = list(ids.values())
    while pending:
        result_id = pending.pop()
        result = await app.result_backend.get(result_id)
        assert result is not None, result_id
        view.results[result_id] = result
        view.children[result_id] = [c async for c in result.children.iter_ids()]
        pending += view.children[result_id]
        view.metadata[result_id] = await app.result_backend.get_metadata(result_id)
        try:
            view.values[result_id] = await app.result_backend.get_value(result_id)
        except ResultValueLost:
            view.values[result_id] = None
    return view


async def _delete_amqp_objects(amqp_url: str, app: str) -> None:
    """Best effort: leave no durable queue or exchange of this test in RabbitMQ."""
    import aio_pika

    with contextlib.suppress(Exception):
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(f"{app}.tasks")
            for exchange in (f"{app}.mognet.direct", f"{app}.mognet.control"):
                with contextlib.suppress(Exception):
                    await channel.exchange_delete(exchange)


async def _run_app(redis_url: str, amqp_url: str) -> AppView:
    # RabbitMQ outlives the session's Redis: a random part keeps queues apart.
    name = f"{unique_app_name('compat_app')}_{uuid.uuid4().hex[:8]}"
    registry = TaskRegistry()
    registry.register_globally()  # inside this asyncio.run's context only
    for func in TASKS:
        registry.add_task_function(func, name=f"mognet_lab_test.{func.__name__}")
    app = App(name=name, config=_config(name, redis_url, amqp_url))
    try:
        async with app:
            start_task = asyncio.create_task(app.start())
            try:
                ids = await _submit_all(app)
                view = await _read_view(app, ids)
            finally:
                await app.close()
                start_task.cancel()
                with contextlib.suppress(BaseException):
                    await start_task
    finally:
        await _delete_amqp_objects(amqp_url, name)
    return view


@pytest.fixture(scope="module")
def view(redis_url: str, rabbitmq_url: str) -> AppView:
    async def run() -> AppView:
        return await asyncio.wait_for(_run_app(redis_url, rabbitmq_url), RUN_TIMEOUT_S)

    return asyncio.run(run())


@pytest.fixture(scope="module")
def snap(redis_url: str, view: AppView) -> Any:
    return mognet_lab.connect(redis_url, app=view.app).scan(progress=False)


def _row(frame: pd.DataFrame, column: str, value: str) -> pd.Series:
    rows = frame[frame[column] == value]
    assert len(rows) == 1, f"expected one row with {column}={value!r}, got {len(rows)}"
    return rows.iloc[0]


def _value_status(view: AppView, result_id: uuid.UUID) -> str:
    holder = view.values[result_id]
    if holder is None:
        return "lost" if view.results[result_id].state in READY_STATES else "none"
    if holder.value_type == EXCEPTION_INFO_TYPE and holder.raw_value["name"] == NOT_READY_NAME:
        return "not_ready"
    return "present"


# -- the App did what the scenario says ---------------------------------------
def test_the_app_ran_the_tasks(view: AppView) -> None:
    states = {role: view.results[rid].state.value for role, rid in view.ids.items()}
    assert states == {"dict": "SUCCESS", "parent": "SUCCESS", "failure": "FAILURE",
                      "stateful_done": "SUCCESS", "metadata": "SUCCESS", "revoked": "REVOKED"}
    assert len(view.children[view.ids["parent"]]) == 3
    assert len(view.results) == 6 + 3


# -- the scan agrees with the App ----------------------------------------------
def test_same_results(snap: Any, view: AppView) -> None:
    assert sorted(snap.results["result_id"]) == sorted(str(i) for i in view.results)
    assert snap.results["error"].isna().all()


def test_result_rows_match_the_app(snap: Any, view: AppView) -> None:
    problems: list[str] = []
    for result_id, r in view.results.items():
        row = _row(snap.results, "result_id", str(result_id))
        want = {
            "name": r.name,
            "state": r.state.value,
            "parent_id": str(r.parent_id) if r.parent_id else None,
            "node_id": r.node_id,
            "created": r.created,
            "started": r.started,
            "finished": r.finished,
            "queue_time": r.queue_time,
            "duration": r.duration,
            "number_of_starts": r.number_of_starts,
            "number_of_stops": r.number_of_stops,
            "unexpected_retries": r.unexpected_retry_count,
            "request_kwargs_repr": r.request_kwargs_repr,
            "children_count": len(view.children[result_id]),
            "has_metadata": bool(view.metadata[result_id]),
            "value_status": _value_status(view, result_id),
            "ttl_s": between(RESULT_TTL_S - 120, RESULT_TTL_S),
            "error": None,
        }
        problems += row_mismatches(row, want, label=f"{r.name}[{result_id}].")
    assert not problems, "\n".join(problems)


def test_node_and_timings(snap: Any, view: AppView) -> None:
    ran = snap.results[snap.results["state"] != "REVOKED"]
    assert set(ran["node_id"].astype(str)) == {view.node_id}
    assert (ran["queue_time"] >= pd.Timedelta(0)).all()
    assert (ran["duration"] >= pd.Timedelta(0)).all()
    # (gather() suspends and resumes the parent, but the worker then writes its
    # own stale Result copy: Mognet 2.0.0 ends with 1 start / 1 stop. The row
    # test compares starts/stops with whatever the App reports.)
    assert (ran["unexpected_retries"] == 0).all()


def test_values_match_the_app(snap: Any, view: AppView) -> None:
    problems: list[str] = []
    with_value = {rid: h for rid, h in view.values.items() if h is not None}
    assert sorted(snap.values["result_id"]) == sorted(str(r) for r in with_value)
    for result_id, holder in with_value.items():
        row = _row(snap.values, "result_id", str(result_id))
        is_exception = holder.value_type == EXCEPTION_INFO_TYPE
        raw = holder.raw_value if is_exception else None
        want = {
            "value_type": holder.value_type,
            "encoding": "gzip",
            "content_type": "application/json",
            "is_exception": is_exception,
            "exception_name": raw["name"] if raw else None,
            "exception_message": raw["message"] if raw else None,
            "error": None,
        }
        problems += row_mismatches(row, want, label=f"{view.results[result_id].name}.value.")
    assert not problems, "\n".join(problems)


def test_failure_and_revoked_values(snap: Any, view: AppView, redis_url: str) -> None:
    failed = _row(snap.values, "result_id", str(view.ids["failure"]))
    assert (failed["exception_name"], failed["exception_message"]) == ("builtins:ValueError", "bad x=7")
    revoked = _row(snap.results, "result_id", str(view.ids["revoked"]))
    assert revoked["value_status"] == "not_ready"
    revoked_value = _row(snap.values, "result_id", str(view.ids["revoked"]))
    assert revoked_value["exception_name"] == NOT_READY_NAME
    # App.revoke's get_or_create creates the placeholder without a TTL; the
    # worker's cancel() calls get_or_create again, and that EXPIRE now hits.
    key = f"{view.app}.mognet.result.{view.ids['revoked']}/value"
    with redis.Redis.from_url(redis_url) as client:
        pttl = client.pttl(key)
    if pttl < 0:
        assert pd.isna(revoked_value["ttl_s"])
    else:
        assert pttl / 1000 <= revoked_value["ttl_s"] <= pttl / 1000 + 60
    ok = _row(snap.values, "result_id", str(view.ids["dict"]))
    assert ok["value_type"] == "builtins:dict" and not ok["is_exception"]


def test_children_match_the_app(snap: Any, view: AppView) -> None:
    expected = sorted((str(p), str(c)) for p, kids in view.children.items() for c in kids)
    assert sorted(zip(snap.children["parent_id"], snap.children["child_id"])) == expected


def test_metadata_matches_the_app(snap: Any, view: AppView) -> None:
    with_metadata = {rid: m for rid, m in view.metadata.items() if m}
    assert sorted(snap.metadata["result_id"]) == sorted(str(r) for r in with_metadata)
    row = _row(snap.metadata, "result_id", str(view.ids["metadata"]))
    # Request metadata (App.submit) merged with context.set_metadata.
    assert view.metadata[view.ids["metadata"]] == {
        "origin": "test", "batch": {"size": 2}, "stage": "done", "rows": 12, "extra": {"source": "ctx"}}
    want = {"field_count": 5, "origin": "test", "batch.size": 2, "stage": "done", "rows": 12,
            "extra.source": "ctx", "error": None}
    problems = row_mismatches(row, want, label="metadata.")
    assert not problems, "\n".join(problems)


def test_only_the_unfinished_task_keeps_its_state(snap: Any, view: AppView) -> None:
    assert list(snap.states["request_id"]) == [str(view.ids["revoked"])]
    row = snap.states.iloc[0]
    want = {"field_count": len(STATEFUL_FIELDS), "fields": json_cell(STATEFUL_FIELDS),
            "ttl_s": between(STATE_TTL_S - 120, STATE_TTL_S), "error": None}
    problems = row_mismatches(row, want, label="state.")
    assert not problems, "\n".join(problems)


def test_key_kinds(snap: Any, view: AppView) -> None:
    kinds = snap.keys["kind"].astype(str).value_counts().to_dict()
    assert kinds == {
        "result": len(view.results),
        "value": sum(h is not None for h in view.values.values()),
        "children": sum(bool(k) for k in view.children.values()),
        "metadata": sum(bool(m) for m in view.metadata.values()),
        "state": 1,
    }


def test_discover_apps_sees_the_app(redis_url: str, snap: Any, view: AppView) -> None:
    apps = mognet_lab.discover_apps(redis_url)
    row = _row(apps, "app", view.app)
    assert (row["keys"], row["results"]) == (len(snap.keys), len(view.results))
