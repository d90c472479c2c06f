"""Write a realistic Mognet keyspace into a private redis-server.

:func:`write_workload` turns the deterministic plan of :mod:`.plan` into
Redis keys in Mognet 2.0.0's exact byte format (:mod:`.encode`), giving each
key the TTL it would have now had it been written at its planned time. It is
the only writer in mognet_lab and refuses any server but an
:class:`~mognet_lab.embedded.EmbeddedRedis` that mognet_lab started itself.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterable, Iterator, Mapping, NamedTuple

import redis

from ..embedded import EmbeddedRedis
from ..errors import bad_option
from ..keys import KIND_CHILDREN, KIND_METADATA, KIND_RESULT, KIND_STATE, KIND_VALUE
from .encode import (
    GzipEncoder,
    children_members,
    json_hash,
    result_hash,
    result_key,
    state_key,
    value_hash,
)
from .plan import PlannedResult, iter_plan

__all__ = ["Workload", "WorkloadSummary", "write_workload"]

_READY_STATES = frozenset({"SUCCESS", "FAILURE", "REVOKED", "INVALID"})
# Commands per pipeline round trip: big enough to hide latency, small enough
# that a chunk holding a few ~1 MB values stays a few tens of MB.
_CHUNK_COMMANDS = 4000
# Keys this close to expiring are not written, so no key of the summary expires
# during a scan that follows the write.
_EXPIRY_MARGIN_MS = 30 * 60 * 1000


@dataclass(frozen=True)
class Workload:
    """What :func:`write_workload` writes: size, seed, clock and Mognet's TTL settings.

    ``now`` is the instant the app's history ends at (default: the current
    time, UTC); ``created`` timestamps are spread over ``span`` before it,
    with ~2% of the work submitted in the last 20 minutes. TTLs in seconds
    mirror Mognet's ``result_ttl`` (result, children, metadata),
    ``result_value_ttl`` and ``state_ttl``; ``None`` means no TTL. With the
    defaults, values older than 7 days have expired while their results
    remain: about 30% of the SUCCESS results have lost their value.
    ``gzip=False`` stores values uncompressed (Mognet's ``result_value_encoding=None``).
    """

    app: str = "demo"
    results: int = 2000
    seed: int = 1
    now: datetime | None = None
    span: timedelta = timedelta(days=10)
    result_ttl_s: int | None = 21 * 86400
    value_ttl_s: int | None = 7 * 86400
    state_ttl_s: int = 7200
    gzip: bool = True


@dataclass(frozen=True)
class WorkloadSummary:
    """What :func:`write_workload` wrote, counted from the keys actually sent.

    ``results`` counts result hashes (fewer than asked for only when ``span``
    exceeds the result TTL); ``keys_by_kind`` uses the kinds of
    :mod:`mognet_lab.keys`. ``values_by_status`` classifies each result by its
    ``/value`` key: ``present`` (final value), ``not_ready`` (placeholder),
    ``lost`` (ready result, no value key: it expired) and ``none`` (not ready,
    no value key). ``expired_values`` counts SUCCESS results whose value
    expired; ``placeholders_without_ttl`` the placeholders with no TTL (with
    TTLs set, the only keys without one). ``orphan_keys`` are keys whose result hash had
    expired (TTL-less placeholders of results older than the result TTL).
    ``unexpected_retries`` counts results with more starts than stops;
    ``finished_state_hashes`` the state hashes of results in a ready state.
    """

    app: str
    now: datetime
    results: int
    keys: int
    keys_by_kind: Mapping[str, int]
    results_by_state: Mapping[str, int]
    values_by_status: Mapping[str, int]
    placeholder_values: int
    placeholders_without_ttl: int
    expired_values: int
    keys_without_ttl: int
    orphan_keys: int
    unexpected_retries: int
    children_sets: int
    children_edges: int
    metadata_hashes: int
    state_hashes: int
    finished_state_hashes: int
    elapsed_s: float = field(compare=False)


class _KeyWrite(NamedTuple):
    key: str
    kind: str
    payload: dict[str, bytes] | list[bytes]  # hash fields, or set members
    ttl_ms: int | None


def _ttl_ms(ttl_s: int | None, written_at: datetime, now: datetime) -> int | None:
    """Remaining TTL of a key EXPIREd at ``written_at``; 0 when it would be gone.

    Keys about to expire count as gone already, so that a scan soon after the
    write finds exactly the keys the summary counts.
    """
    if ttl_s is None:
        return None
    remaining = int(ttl_s * 1000 - (now - written_at) / timedelta(milliseconds=1))
    margin = min(_EXPIRY_MARGIN_MS, ttl_s * 100)  # a tenth of short TTLs
    return remaining if remaining > margin else 0


def _value_write(planned: PlannedResult, workload: Workload, now: datetime,
                 encoder: GzipEncoder | None) -> _KeyWrite | None:
    value = planned.value
    if value is None:
        return None
    ttl = None if value.ttl_from is None else _ttl_ms(workload.value_ttl_s, value.ttl_from, now)
    if ttl == 0:
        return None
    fields = value_hash(value.contents, mtime=int(value.written_at.timestamp()), encoder=encoder)
    return _KeyWrite(result_key(workload.app, planned.record.id, "value"), KIND_VALUE, fields, ttl)


def _key_writes(planned: PlannedResult, workload: Workload, now: datetime,
                encoder: GzipEncoder | None) -> Iterator[_KeyWrite]:
    app, rid, result_ttl = workload.app, planned.record.id, workload.result_ttl_s
    yield _KeyWrite(result_key(app, rid), KIND_RESULT, result_hash(planned.record),
                    _ttl_ms(result_ttl, planned.result_at, now))
    value = _value_write(planned, workload, now, encoder)
    if value is not None:
        yield value
    if planned.children and planned.children_at is not None:
        yield _KeyWrite(result_key(app, rid, "children"), KIND_CHILDREN,
                        children_members(planned.children),
                        _ttl_ms(result_ttl, planned.children_at, now))
    if planned.metadata and planned.metadata_at is not None:
        yield _KeyWrite(result_key(app, rid, "metadata"), KIND_METADATA,
                        json_hash(planned.metadata), _ttl_ms(result_ttl, planned.metadata_at, now))
    if planned.state and planned.state_at is not None:
        yield _KeyWrite(state_key(app, rid), KIND_STATE, json_hash(planned.state),
                        _ttl_ms(workload.state_ttl_s, planned.state_at, now))


def _queue(pipe: redis.client.Pipeline, write: _KeyWrite) -> None:
    # execute_command, not hset/sadd: their argument checks cost more than the send.
    if isinstance(write.payload, list):
        pipe.execute_command("SADD", write.key, *write.payload)
    else:
        pipe.execute_command("HSET", write.key, *_flat(write.payload))
    if write.ttl_ms is not None:
        pipe.execute_command("PEXPIRE", write.key, write.ttl_ms)


def _flat(fields: dict[str, bytes]) -> list[object]:
    items: list[object] = []
    for name, value in fields.items():
        items += (name, value)
    return items


class _Tally:
    """Counts what was sent, to build the summary."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.states: Counter[str] = Counter()
        self.values: Counter[str] = Counter()
        self.other: Counter[str] = Counter()

    def add(self, planned: PlannedResult, writes: list[_KeyWrite]) -> None:
        kinds = {w.kind for w in writes}
        self.kinds.update(w.kind for w in writes)
        self.other["keys_without_ttl"] += sum(w.ttl_ms is None for w in writes)
        if KIND_RESULT not in kinds:
            self.other["orphan_keys"] += len(writes)
            return
        record = planned.record
        self.states[record.state] += 1
        self.other["unexpected_retries"] += record.number_of_starts > record.number_of_stops
        self.other["children_edges"] += len(planned.children) if KIND_CHILDREN in kinds else 0
        if KIND_STATE in kinds and record.state in _READY_STATES:
            self.other["finished_state_hashes"] += 1
        self._add_value(planned, next((w for w in writes if w.kind == KIND_VALUE), None))

    def _add_value(self, planned: PlannedResult, write: _KeyWrite | None) -> None:
        state = planned.record.state
        if write is None:
            self.values["lost" if state in _READY_STATES else "none"] += 1
            self.other["expired_values"] += state == "SUCCESS"
        elif planned.value is not None and planned.value.is_placeholder:
            self.values["not_ready"] += 1
            self.other["placeholders_without_ttl"] += write.ttl_ms is None
        else:
            self.values["present"] += 1

    def summary(self, workload: Workload, now: datetime, elapsed_s: float) -> WorkloadSummary:
        other = self.other
        return WorkloadSummary(
            app=workload.app, now=now, results=self.kinds[KIND_RESULT],
            keys=sum(self.kinds.values()),
            keys_by_kind=dict(self.kinds), results_by_state=dict(self.states),
            values_by_status=dict(self.values), placeholder_values=self.values["not_ready"],
            placeholders_without_ttl=other["placeholders_without_ttl"],
            expired_values=other["expired_values"], keys_without_ttl=other["keys_without_ttl"],
            orphan_keys=other["orphan_keys"], unexpected_retries=other["unexpected_retries"],
            children_sets=self.kinds[KIND_CHILDREN], children_edges=other["children_edges"],
            metadata_hashes=self.kinds[KIND_METADATA], state_hashes=self.kinds[KIND_STATE],
            finished_state_hashes=other["finished_state_hashes"], elapsed_s=elapsed_s)


def _check(workload: Workload) -> None:
    if workload.results < 0:
        raise bad_option("results", workload.results, "a count of 0 or more")
    if workload.now is not None and workload.now.utcoffset() is None:
        raise bad_option("now", workload.now, "a timezone-aware datetime (tzinfo=timezone.utc)")
    if workload.span <= timedelta(0):
        raise bad_option("span", workload.span, "a positive timedelta")
    for name in ("result_ttl_s", "value_ttl_s", "state_ttl_s"):
        ttl = getattr(workload, name)
        if ttl is not None and ttl <= 0:
            raise bad_option(name, ttl, "a positive number of seconds, or None for no TTL")


def _live_writes(writes: Iterable[_KeyWrite]) -> list[_KeyWrite]:
    # A TTL already run out means Redis would have dropped the key: do not write it.
    return [w for w in writes if w.ttl_ms != 0]


def write_workload(server: EmbeddedRedis, workload: Workload = Workload()) -> WorkloadSummary:
    """Write ``workload`` into ``server`` as Mognet 2.0.0 would have, and count it.

    Parameters
    ----------
    server
        A running :class:`~mognet_lab.embedded.EmbeddedRedis`. Any other
        target is refused: mognet_lab only writes into a server it started.
    workload
        Size, seed, clock and TTL settings. The same workload (with a fixed
        ``now``) always writes the same keys and values.

    Returns
    -------
    WorkloadSummary
        Counts of the keys, states and value kinds actually written.

    Raises
    ------
    TypeError
        If ``server`` is not an ``EmbeddedRedis``.
    BadOption
        If a workload setting is out of range (e.g. a naive ``now``).
    """
    if not isinstance(server, EmbeddedRedis):
        raise TypeError(
            f"write_workload writes only into an EmbeddedRedis started by mognet_lab, "
            f"not {type(server).__name__}; use `with EmbeddedRedis() as server: ...`."
        )
    _check(workload)
    now = workload.now or datetime.now(timezone.utc)
    began = time.perf_counter()
    encoder = GzipEncoder() if workload.gzip else None
    tally = _Tally()
    client = redis.Redis.from_url(server.url)
    try:
        with client.pipeline(transaction=False) as pipe:
            for planned in iter_plan(workload, now):
                writes = _live_writes(_key_writes(planned, workload, now, encoder))
                for write in writes:
                    _queue(pipe, write)
                tally.add(planned, writes)
                if len(pipe) >= _CHUNK_COMMANDS:
                    pipe.execute()
            pipe.execute()
    finally:
        client.close()
    return tally.summary(workload, now, time.perf_counter() - began)
