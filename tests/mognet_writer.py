"""Write a Mognet keyspace with the real ``mognet`` package, as App and Worker do.

Nothing here writes Redis by hand: every key comes from Mognet's own
``RedisResultBackend`` / ``RedisStateBackend`` and ``Result`` methods, called
in the order ``App.submit``, ``App.revoke`` and ``Worker._run_request`` call
them. :class:`MognetWriter` also records what each result should look like
afterwards (:class:`Written`), so tests can compare a scan value by value.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pandas as pd
from pydantic import BaseModel

from mognet.backend.backend_config import (
    Encoding,
    RedisResultBackendSettings,
    ResultBackendConfig,
)
from mognet.backend.redis_result_backend import RedisResultBackend
from mognet.model.result import Result
from mognet.model.result_state import READY_STATES, ResultState
from mognet.primitives.request import Request
from mognet.state.redis_state_backend import RedisStateBackend
from mognet.state.state_backend_config import (
    RedisStateBackendSettings,
    StateBackendConfig,
)
from mognet.tools.kwargs_repr import format_kwargs_repr

__all__ = [
    "RESULT_TTL_S",
    "VALUE_TTL_S",
    "STATE_TTL_S",
    "NOT_READY_NAME",
    "EXCEPTION_INFO_TYPE",
    "AppRef",
    "Point",
    "Written",
    "MognetWriter",
    "Scenario",
    "write_scenario",
    "type_name",
    "unique_app_name",
    "Check",
    "between",
    "near",
    "na_or",
    "json_cell",
    "same",
    "row_mismatches",
]

# Mognet 2.0.0 defaults (RedisResultBackendSettings / RedisStateBackendSettings).
RESULT_TTL_S = 21 * 24 * 3600
VALUE_TTL_S = 7 * 24 * 3600
STATE_TTL_S = 7200
NOT_READY_NAME = "mognet.exceptions.result_exceptions:ResultNotReady"
EXCEPTION_INFO_TYPE = "mognet.model.result:_ExceptionInfo"

from naming import unique_app_name  # noqa: E402,F401 - tests import it from here too


def type_name(value: Any) -> str:
    """``module:name`` of a value's type, as Mognet stores it in ``value_type``."""
    kind = type(value)
    return f"{kind.__module__}:{kind.__name__}"


class Point(BaseModel):
    """A pydantic model returned as a task value."""

    x: int
    y: int
    label: str = "p"


@dataclass(frozen=True)
class AppRef:
    """What the backends need of an App: its name."""

    name: str


@dataclass
class Written:
    """What mognet_lab should report for one result, after the writes."""

    result: Result
    children: list[uuid.UUID] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    # "present" / "not_ready" / "lost" / "none" (mognet_lab's value_status).
    value_status: str = "none"
    value: Any = None
    value_type: str | None = None
    exception: tuple[str, str] | None = None
    encoding: str | None = None
    result_ttl_s: float | None = RESULT_TTL_S
    # None: the value key has no TTL (or there is no value key).
    value_ttl_s: float | None = None
    children_ttl_s: float | None = RESULT_TTL_S
    metadata_ttl_s: float | None = RESULT_TTL_S

    @property
    def id(self) -> str:
        return str(self.result.id)


class MognetWriter:
    """Mognet's result and state backends for one app, plus a record of the writes.

    Use as ``async with MognetWriter(url, app) as w:``.
    """

    def __init__(
        self,
        url: str,
        app: str,
        *,
        gzip: bool = True,
        value_ttl_s: int | None = VALUE_TTL_S,
        node_id: str = "node-a@host1",
    ) -> None:
        self.app = AppRef(app)
        self.node_id = node_id
        self.encoding = "gzip" if gzip else None
        self.value_ttl_s = value_ttl_s
        settings = RedisResultBackendSettings(
            url=url,
            result_value_encoding=Encoding.GZIP if gzip else None,
            result_value_ttl=value_ttl_s,
        )
        self.results = RedisResultBackend(ResultBackendConfig(redis=settings), app=self.app)
        self.states = RedisStateBackend(
            StateBackendConfig(redis=RedisStateBackendSettings(url=url)), app=self.app
        )
        self.written: dict[uuid.UUID, Written] = {}
        # request_id -> {key: value} written through the state backend.
        self.state_fields: dict[str, dict[str, Any]] = {}

    async def __aenter__(self) -> MognetWriter:
        await self.results.connect()
        await self.states.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.results.close()
        await self.states.close()

    # -- App.submit ---------------------------------------------------------
    async def submit(
        self,
        name: str,
        *args: Any,
        parent: Result | None = None,
        metadata: dict[str, Any] | None = None,
        created: datetime | None = None,
        **kwargs: Any,
    ) -> Result:
        """Exactly App.submit's writes (without the broker message)."""
        req = Request(name=name, args=args, kwargs=kwargs, metadata=metadata or {})
        req.kwargs_repr = format_kwargs_repr(req.args, req.kwargs)
        res = Result(
            self.results,
            id=req.id,
            name=req.name,
            state=ResultState.PENDING,
            created=created or datetime.now(tz=timezone.utc),
            request_kwargs_repr=req.kwargs_repr,
        )
        if parent is not None:
            res.parent_id = parent.id
            await self.results.add_children(parent.id, req.id)
            self.written[parent.id].children.append(req.id)
        await self.results.set(req.id, res)
        if req.metadata:
            await res.set_metadata(**req.metadata)
        self.written[res.id] = Written(res, metadata=dict(req.metadata), encoding=None)
        return res

    # -- Worker._run_request -------------------------------------------------
    async def start(self, res: Result, *, at: datetime | None = None) -> Result:
        """Result.start; ``at`` replaces now_utc() to get a chosen queue time."""
        if at is None:
            return await res.start(node_id=self.node_id)
        res.started = at
        res.node_id = self.node_id
        res.state = ResultState.RUNNING
        res.number_of_starts += 1
        await self.results.set(res.id, res)
        return res

    async def complete(self, res: Result, value: Any) -> Result:
        """Result.set_result: the value hash (with its TTL), then SUCCESS."""
        await res.set_result(value)
        self._final_value(res, value=value, value_type=type_name(value))
        return res

    async def fail(
        self, res: Result, exc: BaseException, state: ResultState = ResultState.FAILURE
    ) -> Result:
        """Result.set_error: the exception info as value, then an error state."""
        await res.set_error(exc, state=state)
        self._final_value(res, value=None, value_type=EXCEPTION_INFO_TYPE,
                          exception=(type_name(exc), str(exc)))
        return res

    async def set_context_metadata(self, res: Result, **kwargs: Any) -> None:
        """Context.set_metadata (and Result.set_metadata): HSET + 21-day TTL."""
        await res.set_metadata(**kwargs)
        self.written[res.id].metadata.update(kwargs)
        self.written[res.id].metadata_ttl_s = RESULT_TTL_S

    async def set_state(self, request_id: uuid.UUID | str, key: str, value: Any) -> None:
        """context.state.set: the state backend's HSET + EXPIRE state_ttl."""
        await self.states.set(request_id, key, value)  # type: ignore[arg-type]
        self.state_fields.setdefault(str(request_id), {})[key] = value

    # -- App.revoke / Worker.cancel -----------------------------------------
    async def get_or_create(self, result_id: uuid.UUID) -> Result:
        """backend.get_or_create: HSETNX id and the ResultNotReady placeholder value."""
        res = await self.results.get_or_create(result_id)
        record = self.written.get(result_id)
        if record is None:
            record = self.written[result_id] = Written(res)
        record.result = res
        if record.value_status in ("none", "lost"):
            # The placeholder is HSETNX'd after an EXPIRE on a key that did not
            # exist yet, so it never gets a TTL (Mognet 2.0.0).
            record.value_status = "not_ready"
            record.value_type = EXCEPTION_INFO_TYPE
            record.exception = (NOT_READY_NAME, "")
            record.encoding = self.encoding
            record.value_ttl_s = None
        return res

    async def revoke(self, result_id: uuid.UUID) -> Result:
        """App.revoke without the control message: get_or_create, revoke, children too."""
        res = await self.get_or_create(result_id)
        if res.done:
            return res
        await res.revoke()
        async for child_id in res.children.iter_ids():
            await self.revoke(child_id)
        return res

    async def suspend(self, res: Result) -> Result:
        return await res.suspend()

    async def resume(self, res: Result) -> Result:
        return await res.resume(node_id=self.node_id)

    async def set_ttl(self, res: Result, ttl: timedelta) -> None:
        """Result.set_ttl: EXPIRE on all four keys, recursively on the children."""
        await res.set_ttl(ttl)
        self._apply_ttl(res.id, ttl.total_seconds())

    def _apply_ttl(self, result_id: uuid.UUID, ttl_s: float) -> None:
        record = self.written[result_id]
        record.result_ttl_s = ttl_s
        record.children_ttl_s = ttl_s
        record.metadata_ttl_s = ttl_s
        if record.value_status in ("present", "not_ready"):
            record.value_ttl_s = ttl_s
        for child in record.children:
            self._apply_ttl(child, ttl_s)

    def _final_value(
        self,
        res: Result,
        *,
        value: Any,
        value_type: str,
        exception: tuple[str, str] | None = None,
    ) -> None:
        record = self.written[res.id]
        record.result = res
        record.value_status = "present"
        record.value = value
        record.value_type = value_type
        record.exception = exception
        record.encoding = self.encoding
        record.value_ttl_s = self.value_ttl_s

    def expire_values(self) -> None:
        """Mark values written with a short ``value_ttl_s`` as lost (call after they expired)."""
        for record in self.written.values():
            if record.value_status == "present" and record.result.state in READY_STATES:
                record.value_status = "lost"
                record.value_ttl_s = None


@dataclass
class Scenario:
    """A varied keyspace written through Mognet, with what each result should show."""

    app: str
    written: dict[uuid.UUID, Written]
    states: dict[str, dict[str, Any]]
    # Role name -> result id, so tests can pick out one result.
    roles: dict[str, uuid.UUID]

    def by_role(self, role: str) -> Written:
        return self.written[self.roles[role]]


def _big_value() -> list[dict[str, Any]]:
    """About 200 KB of JSON that gzip shrinks only a few times (UUIDs are random)."""
    return [{"i": i, "id": str(uuid.uuid4()), "tag": f"item-{i % 7}", "ok": i % 3 == 0}
            for i in range(2600)]


async def write_scenario(url: str, app: str, *, lost_wait_s: float = 1.2) -> Scenario:
    """Every flow Mognet has, under ``app``: submit, run, fail, revoke, children,
    metadata, state, set_ttl, gzip and plain encodings, an id-only result and a
    lost value (a value TTL of 1 s that has run out)."""
    roles: dict[str, uuid.UUID] = {}
    async with MognetWriter(url, app) as gz, \
            MognetWriter(url, app, gzip=False, node_id="node-b@host2") as plain, \
            MognetWriter(url, app, value_ttl_s=1) as short:
        await _family(gz, roles)
        await _value_types(gz, roles)
        await _failures(gz, plain, roles)
        await _unfinished(gz, roles)
        await _revoked_and_id_only(gz, roles)
        await _short_ttl_family(gz, roles)
        await _plain_success(plain, roles)
        await _lost(short, roles, lost_wait_s)
        written = {**gz.written, **plain.written, **short.written}
        states = {**gz.state_fields, **plain.state_fields, **short.state_fields}
    return Scenario(app=app, written=written, states=states, roles=roles)


async def _family(w: MognetWriter, roles: dict[str, uuid.UUID]) -> None:
    """A parent that submits three children, waits for them and returns a dict."""
    now = datetime.now(tz=timezone.utc)
    parent = await w.submit("demo.parent", 3, created=now - timedelta(seconds=95),
                            metadata={"user": "alice", "batch": {"size": 3, "tags": ["a", "b"]}})
    roles["parent"] = parent.id
    await w.start(parent, at=now - timedelta(seconds=90, microseconds=250_000))
    kids = [await w.submit("demo.child", i, parent=parent, flag=i % 2 == 0) for i in range(3)]
    roles.update({f"child{i}": kid.id for i, kid in enumerate(kids)})
    await w.suspend(parent)
    for kid, value in zip(kids, ([1, 2, 3], 42, "hello")):
        await w.start(kid)
        await w.complete(kid, value)
    await w.resume(parent)
    await w.set_context_metadata(parent, stage="done", count=3)
    await w.complete(parent, {"total": 45, "children": [str(k.id) for k in kids]})


async def _value_types(w: MognetWriter, roles: dict[str, uuid.UUID]) -> None:
    """Values of other types: None, a pydantic model, ~200 KB, a float."""
    for role, value in (("none_value", None), ("model", Point(x=1, y=-2)),
                        ("big", _big_value()), ("float", 2.5)):
        res = await w.submit(f"demo.{role}")
        roles[role] = res.id
        await w.start(res)
        await w.complete(res, value)


async def _failures(gz: MognetWriter, plain: MognetWriter, roles: dict[str, uuid.UUID]) -> None:
    """A failure, an INVALID (unknown task) as the worker writes them, a plain failure."""
    res = await gz.submit("demo.fails", x=7)
    roles["failure"] = res.id
    await gz.start(res)
    await gz.fail(res, ValueError("bad input 7"))
    res = await gz.submit("demo.unknown")
    roles["invalid"] = res.id
    await gz.fail(res, KeyError("demo.unknown"), state=ResultState.INVALID)
    res = await plain.submit("demo.plain_fail")
    roles["plain_failure"] = res.id
    await plain.start(res)
    await plain.fail(res, RuntimeError("plain boom"))


async def _unfinished(w: MognetWriter, roles: dict[str, uuid.UUID]) -> None:
    """Pending forever (no value key), and stuck RUNNING after a crash, with state."""
    roles["pending"] = (await w.submit("demo.pending", "a", "b")).id
    res = await w.submit("demo.crashy")
    roles["running"] = res.id
    await w.start(res)
    await w.suspend(res)
    await w.resume(res)
    await w.start(res)  # restarted after a SIGKILL: starts 3, stops 1
    await w.set_state(res.id, "progress", 5)
    await w.set_state(res.id, "cursor", {"page": 2, "done": False})
    await w.set_state("custom-request", "note", "free-form id")


async def _revoked_and_id_only(w: MognetWriter, roles: dict[str, uuid.UUID]) -> None:
    """App.revoke of a PENDING parent (and its child), with no worker to cancel it:
    the get_or_create placeholder value keeps no TTL. Then get_or_create of an
    id never submitted: a result hash holding only "id"."""
    res = await w.submit("demo.revoked", created=datetime.now(tz=timezone.utc) - timedelta(seconds=3))
    roles["revoked"] = res.id
    kid = await w.submit("demo.revoked_child", parent=res)
    roles["revoked_child"] = kid.id
    await w.revoke(res.id)
    roles["id_only"] = orphan = uuid.uuid4()
    await w.get_or_create(orphan)


async def _short_ttl_family(w: MognetWriter, roles: dict[str, uuid.UUID]) -> None:
    """Result.set_ttl on a parent with a child: all keys of both get 1 hour."""
    res = await w.submit("demo.ttl_parent", metadata={"short": True})
    roles["ttl_parent"] = res.id
    await w.start(res)
    kid = await w.submit("demo.ttl_child", parent=res)
    roles["ttl_child"] = kid.id
    await w.start(kid)
    await w.complete(kid, {"k": "v"})
    await w.complete(res, "ok")
    await w.set_ttl(res, timedelta(hours=1))


async def _plain_success(w: MognetWriter, roles: dict[str, uuid.UUID]) -> None:
    """A node that stores values without gzip."""
    res = await w.submit("demo.plain", size=10)
    roles["plain"] = res.id
    await w.start(res)
    await w.complete(res, {"rows": list(range(10))})


async def _lost(w: MognetWriter, roles: dict[str, uuid.UUID], wait_s: float) -> None:
    """A value whose 1-second TTL runs out while its result stays: lost."""
    res = await w.submit("demo.lost")
    roles["lost"] = res.id
    await w.start(res)
    await w.complete(res, {"gone": True})
    await asyncio.sleep(wait_s)
    if wait_s > 1.0:
        w.expire_values()


# -- comparing a frame row with what was written -------------------------------
class Check:
    """An expectation that is not plain equality (a range, a set of options...)."""

    def __init__(self, test: Any, text: str, *, allow_na: bool = False) -> None:
        self.test = test
        self.text = text
        self.allow_na = allow_na

    def __call__(self, got: Any) -> bool:
        if _isna(got):
            return self.allow_na
        return bool(self.test(got))

    def __repr__(self) -> str:
        return self.text


def between(low: float, high: float) -> Check:
    return Check(lambda got: low <= float(got) <= high, f"between {low} and {high}")


def near(want: float, *, rel: float = 0.02, abs_: float = 16) -> Check:
    return Check(lambda got: abs(float(got) - want) <= max(abs_, rel * want),
                 f"{want} (±max({abs_}, {rel:.0%}))")


def na_or(option: Any) -> Check:
    """NA, or else the same as ``option``."""
    return Check(lambda got: same(got, option), f"NA or {option!r}", allow_na=True)


def json_cell(want: list[Any] | dict[str, Any]) -> Check:
    """A list or dict cell: the decoded value, or its JSON text."""

    def test(got: Any) -> bool:
        if isinstance(got, str):
            try:
                return bool(json.loads(got) == want)
            except ValueError:
                return False
        return bool(list(got) == want) if isinstance(want, list) else bool(got == want)

    return Check(test, f"{want!r} (or its JSON text)")


def _isna(value: Any) -> bool:
    if isinstance(value, (list, tuple, dict, set)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def same(got: Any, want: Any) -> bool:
    """Whether a frame cell ``got`` holds the written value ``want`` (None = NA)."""
    if isinstance(want, Check):
        return want(got)
    if want is None:
        return _isna(got)
    if _isna(got):
        return False
    if isinstance(want, bool):
        return bool(got) is want
    if isinstance(want, float):
        return abs(float(got) - want) <= 1e-9 * max(1.0, abs(want))
    if isinstance(want, datetime):
        return pd.Timestamp(got) == pd.Timestamp(want)
    if isinstance(want, timedelta):
        return pd.Timedelta(got) == pd.Timedelta(want)
    return bool(got == want)


def row_mismatches(row: Any, want: dict[str, Any], *, label: str = "") -> list[str]:
    """``["col: expected X, got Y", ...]`` for every column of ``row`` not as written."""
    out = []
    for column, expected in want.items():
        got = row[column] if column in row.index else "<no such column>"
        if not same(got, expected):
            out.append(f"{label}{column}: expected {expected!r}, got {got!r}")
    return out
