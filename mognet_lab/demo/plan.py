"""A deterministic plan of the results a small Mognet app would leave in Redis.

The plan is pure data: which results exist, their fields, values, children,
metadata and state, and *when* each key was last written (the writer turns
those times into TTLs). It mimics the order in which Mognet's ``App`` and
``Worker`` write, so placeholders, lost values and stuck tasks appear for the
reasons they appear in production. The demo app's task catalogue (names,
arguments, values, failures) lives in :mod:`mognet_lab.demo.tasks`.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Iterator
from uuid import UUID

from . import tasks
from .encode import (
    EXCEPTION_INFO_TYPE,
    NOT_READY_NAME,
    ResultRecord,
    holder_json,
    not_ready_info,
)

if TYPE_CHECKING:
    from .workload import Workload

__all__ = ["PlannedValue", "PlannedResult", "iter_plan"]

_NODES = ("worker-1", "worker-2", "worker-3", "worker-4")
# Root outcomes before the clock cuts them short (recent work may still run).
_OUTCOMES = {"SUCCESS": 0.855, "FAILURE": 0.07, "REVOKED": 0.03, "DEADLINE": 0.01,
             "RUNNING": 0.012, "SUSPENDED": 0.006, "PENDING": 0.012, "ORPHAN_REVOKE": 0.005}
_OUTCOME_NAMES = tuple(_OUTCOMES)
_OUTCOME_CUMULATIVE = tuple(itertools.accumulate(_OUTCOMES.values()))
_LIVE_FRACTION = 0.02  # roots submitted in the last minutes, some still running
_LIVE_WINDOW = timedelta(minutes=20)
_MAX_RETRIES = 3  # Mognet's default: one more unexpected start and the task fails


@dataclass(frozen=True)
class PlannedValue:
    """A ``/value`` hash: the holder JSON and when it was written."""

    value_type: str
    raw_value: Any
    contents: bytes
    written_at: datetime
    # When the last EXPIRE hit the key; None: it never had one (a placeholder).
    ttl_from: datetime | None

    @property
    def is_placeholder(self) -> bool:
        """True for the "not ready" value written before a result finishes."""
        return isinstance(self.raw_value, dict) and self.raw_value.get("name") == NOT_READY_NAME


_NOT_READY = not_ready_info()


@dataclass(frozen=True)
class PlannedResult:
    """Everything one result owns in Redis, with the time each key was last written."""

    record: ResultRecord
    result_at: datetime
    value: PlannedValue | None = None
    children: tuple[UUID, ...] = ()
    children_at: datetime | None = None
    metadata: dict[str, Any] | None = None
    metadata_at: datetime | None = None
    state: dict[str, Any] | None = None
    state_at: datetime | None = None


def _value(value_type: str, raw_value: Any, at: datetime, ttl_from: datetime | None,
           contents: bytes | None = None) -> PlannedValue:
    body = contents if contents is not None else holder_json(value_type, raw_value)
    return PlannedValue(value_type, raw_value, body, at, ttl_from)


def _placeholder(at: datetime, ttl_from: datetime | None) -> PlannedValue:
    return _value(EXCEPTION_INFO_TYPE, _NOT_READY, at, ttl_from)


@dataclass
class _Draft:
    """A result being planned; frozen into a :class:`PlannedResult` at the end."""

    id: UUID
    name: str | None
    kwargs_repr: str | None
    created: datetime | None
    arguments: dict[str, Any]
    parent_id: UUID | None = None
    state: str = "PENDING"
    starts: int = 0
    stops: int = 0
    started: datetime | None = None
    finished: datetime | None = None
    node_id: str | None = None
    result_at: datetime | None = None
    value: PlannedValue | None = None
    metadata: dict[str, Any] | None = None
    metadata_at: datetime | None = None
    state_hash: dict[str, Any] | None = None
    state_at: datetime | None = None
    children: tuple[UUID, ...] = ()
    children_at: datetime | None = None

    def freeze(self) -> PlannedResult:
        record = ResultRecord(self.id, self.name, self.state, self.starts, self.stops,
                              self.parent_id, self.created, self.started, self.finished,
                              self.node_id, self.kwargs_repr)
        result_at = self.result_at or self.created or self.finished
        assert result_at is not None  # every path sets one of them
        return PlannedResult(record, result_at, self.value, self.children, self.children_at,
                             self.metadata, self.metadata_at, self.state_hash, self.state_at)


class _Planner:
    def __init__(self, workload: Workload, now: datetime) -> None:
        self.rng = random.Random(workload.seed)
        self.now = now
        self.span = workload.span
        self.catalogue = tasks.Catalogue(workload.seed, workload.results)

    def uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def moment(self, at: datetime) -> datetime:
        # Whole-second timestamps are rare but real; readers must meet pydantic's "…:05Z" form.
        # Rounded up, so an event never lands before the one it follows.
        if self.rng.random() < 0.002 and at.microsecond:
            whole = at + timedelta(microseconds=1_000_000 - at.microsecond)
            return whole if whole <= self.now else at
        return at

    def after(self, at: datetime, seconds: float) -> datetime:
        return self.moment(at + timedelta(seconds=seconds))

    def root_created(self) -> datetime:
        if self.rng.random() < _LIVE_FRACTION:
            return self.moment(self.now - self.rng.random() * _LIVE_WINDOW)
        return self.moment(self.now - self.rng.random() * self.span)

    def outcome(self) -> str:
        return self.rng.choices(_OUTCOME_NAMES, cum_weights=_OUTCOME_CUMULATIVE)[0]

    def queue_s(self) -> float:
        if self.rng.random() < 0.01:  # a backlog: the queue was not drained for a while
            return self.rng.uniform(600, 7200)
        return min(self.rng.lognormvariate(-1.2, 1.5), 900.0)

    # -- one result -------------------------------------------------------

    def draft(self, task: str, created: datetime, parent_id: UUID | None) -> _Draft:
        arguments = self.catalogue.arguments(self.rng, task)
        kwargs_repr = tasks.kwargs_repr(arguments)
        draft = _Draft(self.uuid(), task, kwargs_repr, created, arguments, parent_id)
        draft.result_at = created
        if self.rng.random() < 0.3:
            draft.metadata = self.catalogue.submit_metadata(self.rng)
            draft.metadata_at = created
        return draft

    def plan_leaf(self, task: str, created: datetime, parent_id: UUID | None = None,
                  outcome: str | None = None) -> _Draft:
        draft = self.draft(task, created, parent_id)
        if task == tasks.UNKNOWN_TASK:
            return self.invalid(draft)
        outcome = outcome or self.outcome()
        if outcome == "ORPHAN_REVOKE":
            return self.revoke_unknown(draft)
        started = self.after(created, self.queue_s())
        if outcome == "PENDING" or started > self.now:
            return draft
        if outcome == "DEADLINE":
            return self.missed_deadline(draft, started)
        finished = self.after(started, self.catalogue.duration_s(self.rng, task))
        if outcome in ("RUNNING", "SUSPENDED"):
            return self.stuck(draft, started, suspended=outcome == "SUSPENDED")
        if finished > self.now:
            return self.live(draft, started)
        if outcome == "REVOKED":
            lifetime_s = (finished - created).total_seconds()
            return self.revoked(draft, started, self.after(created, lifetime_s * self.rng.random()))
        return self.finish(draft, started, finished, failed=outcome == "FAILURE")

    def start(self, draft: _Draft, started: datetime, retries: int = 0) -> None:
        draft.state, draft.started = "RUNNING", started
        draft.starts += 1 + retries
        draft.node_id = self.rng.choice(_NODES)
        draft.result_at = started

    def finish(self, draft: _Draft, started: datetime, finished: datetime, *, failed: bool,
               error: tasks.ErrorValue | None = None,
               value: tasks.SuccessValue | None = None) -> _Draft:
        # A worker killed mid-task leaves starts > stops once the task is redelivered.
        crashed = self.rng.random() < 0.03
        too_many = failed and error is None and self.rng.random() < 0.15
        retries = _MAX_RETRIES if too_many else (self.rng.randint(1, 2) if crashed else 0)
        if draft.starts == 0:  # else a fan-out parent, started before its children
            self.start(draft, started, retries)
        if too_many:
            error = self.catalogue.too_many_retries(draft.id, draft.starts)
        elif failed and error is None:
            error = self.catalogue.failure(self.rng, draft.name or "", draft.arguments)
        if error is not None:
            draft.state, (value_type, raw) = "FAILURE", error
            draft.value = _value(value_type, raw, finished, finished)
        else:
            value = value or self.catalogue.success(self.rng, draft.name or "", draft.arguments)
            value_type, raw, contents = value
            draft.state = "SUCCESS"
            draft.value = _value(value_type, raw, finished, finished, contents)
        draft.stops += 1
        draft.finished = draft.result_at = finished
        if draft.name == tasks.REPORT_TASK and draft.state == "SUCCESS":
            draft.metadata = {**(draft.metadata or {}), **tasks.report_metadata(raw)}
            draft.metadata_at = finished
        return draft

    def live(self, draft: _Draft, started: datetime) -> _Draft:
        self.start(draft, started)
        if draft.name in tasks.STATEFUL_TASKS:
            self.save_state(draft, started, self.now)
        return draft

    def save_state(self, draft: _Draft, started: datetime, until: datetime) -> None:
        # The task's last context.state.set happened shortly before `until`;
        # the writer drops the hash if its 2-hour TTL has run out since.
        running_s = max((until - started).total_seconds(), 0.0)
        draft.state_hash = self.catalogue.task_state(self.rng, draft.name or "", running_s)
        draft.state_at = until - timedelta(seconds=self.rng.uniform(0, min(running_s, 60.0)))

    def stuck(self, draft: _Draft, started: datetime, *, suspended: bool) -> _Draft:
        self.start(draft, started, retries=self.rng.choice((0, 0, 1, 2)))
        paused = self.after(started, self.rng.uniform(1, 120))
        if (suspended or self.rng.random() < 0.25) and paused <= self.now:
            # Worker shutdown: cancel() creates the placeholder (no TTL), then suspends.
            draft.value = _placeholder(paused, None)
            draft.stops += 1
            draft.state, draft.result_at = "SUSPENDED", paused
            resumed = self.after(paused, self.rng.uniform(1, 60))
            if not suspended and resumed <= self.now:  # resumed on a worker that then died
                self.start(draft, resumed)
        return draft

    def revoked(self, draft: _Draft, started: datetime, at: datetime) -> _Draft:
        was_running = started <= at
        if was_running:
            self.start(draft, started)
            if draft.name in tasks.STATEFUL_TASKS:
                # App.revoke never clears task state; only a completing worker does.
                self.save_state(draft, started, at)
        # App.revoke writes the placeholder; the worker's cancel() on a running
        # task calls get_or_create again, whose EXPIRE then gives it a TTL.
        draft.value = _placeholder(at, at if was_running else None)
        return self.mark_revoked(draft, at)

    def mark_revoked(self, draft: _Draft, at: datetime) -> _Draft:
        draft.state, draft.finished, draft.result_at = "REVOKED", at, at
        draft.stops += 1
        return draft

    def revoke_unknown(self, draft: _Draft) -> _Draft:
        # Revoking an id with no result: get_or_create makes an id-only row, revoke fills it.
        at = draft.created or self.now
        draft.name = draft.kwargs_repr = draft.created = draft.metadata = draft.metadata_at = None
        draft.value = _placeholder(at, None)
        return self.mark_revoked(draft, at)

    def missed_deadline(self, draft: _Draft, delivered: datetime) -> _Draft:
        draft.value = _value(*self.catalogue.deadline_error(), delivered, delivered)
        draft.state, draft.stops = "REVOKED", 1
        draft.finished = draft.result_at = delivered
        return draft

    def invalid(self, draft: _Draft) -> _Draft:
        assert draft.created is not None
        delivered = self.after(draft.created, self.queue_s())
        if delivered > self.now:
            return draft
        draft.value = _value(*self.catalogue.unknown_task(draft.name or ""), delivered, delivered)
        draft.state, draft.stops = "INVALID", 1
        draft.finished = draft.result_at = delivered
        return draft

    # -- a fan-out tree ---------------------------------------------------

    def plan_tree(self, created: datetime, budget: int) -> list[_Draft]:
        parent = self.draft(tasks.FAN_OUT_TASK, created, None)
        started = self.after(created, self.queue_s())
        if started > self.now or budget < 2:
            return [parent]
        self.start(parent, started)
        children = self.plan_children(parent, started, min(self.rng.randint(4, 24), budget - 1))
        roll = self.rng.random()
        if roll < 0.03:  # the worker died while waiting for its children
            return [parent, *children]
        done = [c.finished for c in children if c.finished is not None]
        if len(done) < len(children):  # still waiting for some
            return [parent, *children]
        finished = self.after(max(done), self.rng.uniform(0.05, 0.5))
        if roll < 0.08:
            return [self.revoke_tree(parent, children, started, finished), *children]
        if finished > self.now:
            return [parent, *children]
        failed = sum(c.state != "SUCCESS" for c in children)
        error = self.catalogue.fan_out_error(failed, len(children)) if failed else None
        value = self.catalogue.fan_out_value([c.id for c in children])
        parent = self.finish(parent, started, finished, failed=failed > 0, error=error, value=value)
        return [parent, *children]

    def plan_children(self, parent: _Draft, started: datetime, count: int) -> list[_Draft]:
        children: list[_Draft] = []
        at = started
        for _ in range(count):
            at = self.after(at, self.rng.uniform(0.005, 0.05))
            if at > self.now:
                break
            outcome = "FAILURE" if self.rng.random() < 0.06 else "SUCCESS"
            children.append(self.plan_leaf(tasks.CHILD_TASK, at, parent.id, outcome))
        parent.children = tuple(c.id for c in children)
        # SADD + EXPIRE per submitted child: the set's TTL counts from the last one.
        parent.children_at = at
        return children

    def revoke_tree(self, parent: _Draft, children: list[_Draft], started: datetime,
                    finished: datetime) -> _Draft:
        at = self.after(started, (finished - started).total_seconds() * self.rng.random())
        # Revoked while it waited: after its last child was submitted, and not in the future.
        at = min(max(at, parent.children_at or started), self.now)
        for child in children:
            if child.finished is not None and child.finished <= at:
                # get_or_create on a done child still re-EXPIREs its result and value.
                child.result_at = at
                if child.value is not None:
                    child.value = dataclasses.replace(child.value, ttl_from=at)
                continue
            running = child.started is not None and child.started <= at
            child.state_hash = None
            child.finished = None
            if not running:
                child.started, child.node_id, child.starts = None, None, 0
            child.value = _placeholder(at, at if running else None)
            child.stops = 0
            self.mark_revoked(child, at)
        parent.value = _placeholder(at, at)
        return self.mark_revoked(parent, at)


def iter_plan(workload: Workload, now: datetime) -> Iterator[PlannedResult]:
    """Yield the planned results of ``workload`` with its clock at ``now``.

    Deterministic: the same workload and ``now`` give the same plan. Exactly
    ``workload.results`` results are yielded, a fan-out parent before its children.
    """
    planner = _Planner(workload, now)
    remaining = workload.results
    while remaining > 0:
        created = planner.root_created()
        task = planner.catalogue.root_task(planner.rng)
        if task == tasks.FAN_OUT_TASK:
            drafts = planner.plan_tree(created, remaining)
        else:
            drafts = [planner.plan_leaf(task, created)]
        remaining -= len(drafts)
        for draft in drafts:
            yield draft.freeze()
