"""The pre-flight: what a server tells for free, and a short, time-bounded SCAN walk.

Redis' SCAN visits the buckets of its hash table in reverse-binary order of
the bucket index, so the cursor, read bit-reversed, is the fraction of the
table already walked; and since keys land in buckets by a keyed hash, the
keys of a walk stopped early are a hash sample of the db's keys. The walk
here names every key (no MATCH: the keys that are *not* the app's are what
the app's share is measured against) and stops after ``seconds``.

The estimates drawn from these facts are in :mod:`mognet_lab.analysis.estimate`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..errors import MognetLabError, RedisUnavailable
from ..keys import KEY_KINDS, app_prefix, group_by_kind
from .node import Node
from .translate import translate_error

__all__ = ["Preflight", "cursor_fraction", "db_keys", "preflight"]

# Pages of 1000 keep each SCAN call about 1-2 ms of server time.
_PAGE = 1000
# Enough to measure a share of 1 in 10,000 with a few dozen keys, small enough
# for the walk's own set of names (~100 MB at most).
_MAX_KEYS = 1_000_000


@dataclass(frozen=True)
class Preflight:
    """What one node told about itself and its db, and the partial walk's counts.

    Attributes
    ----------
    db_keys, db_expires, avg_ttl_ms
        ``DBSIZE`` and the db's ``INFO keyspace`` line (``None``: not told).
    walked_keys
        Distinct keys the walk named; ``app_keys`` counts the app's among them
        by kind.
    fraction
        Of the hash table walked (1.0 when the walk reached the end: then
        every count is exact).
    """

    label: str
    redis_version: str | None
    role: str | None
    db_keys: int | None
    db_expires: int | None
    avg_ttl_ms: int | None
    used_memory: int | None
    maxmemory: int | None
    walked_keys: int
    app_keys: Mapping[str, int]
    fraction: float
    complete: bool
    seconds: float
    pages: int
    keysizes: Mapping[str, str] = field(default_factory=dict)
    # Keys the walk named outside the app, by the prefix they share (what dominates).
    others: Mapping[str, int] = field(default_factory=dict)


def cursor_fraction(cursor: int) -> float:
    """The part of the hash table a SCAN cursor has walked (0 <= f < 1; 0: the start).

    Bit-reversing the 64-bit cursor gives the walked buckets' share whatever the
    table's size: the table's index bits become the high bits of the reversal.
    """
    reversed_bits = int(f"{cursor & ((1 << 64) - 1):064b}"[::-1], 2)
    return reversed_bits / float(1 << 64)


def db_keys(node: Node) -> int:
    """``DBSIZE`` of the node (0 when it will not tell): one round trip."""
    reply = _ask(node, "DBSIZE")
    return reply if isinstance(reply, int) else 0


def preflight(node: Node, app: str, *, seconds: float = 2.0) -> Preflight:
    """Ask the node what it tells for free, then walk SCAN for at most ``seconds``."""
    info = _ask(node, "INFO") or {}
    keyspace = _keyspace(info.get(f"db{node.db}"))
    size = _ask(node, "DBSIZE")
    started = time.perf_counter()
    walked, counts, others, cursor, pages = _walk(node, app, started + seconds)
    return Preflight(
        label=node.label, redis_version=_text(info.get("redis_version")),
        role=_text(info.get("role")), db_keys=size if isinstance(size, int) else None,
        db_expires=keyspace.get("expires"), avg_ttl_ms=keyspace.get("avg_ttl"),
        used_memory=_int(info.get("used_memory")), maxmemory=_int(info.get("maxmemory")),
        walked_keys=walked, app_keys=counts, complete=cursor == 0,
        fraction=1.0 if cursor == 0 else cursor_fraction(cursor),
        seconds=time.perf_counter() - started, pages=pages, keysizes=_keysizes(node),
        others=others)


def _walk(node: Node, app: str, deadline: float
          ) -> tuple[int, dict[str, int], dict[str, int], int, int]:
    """Distinct keys named, the app's by kind, the others by prefix, the last cursor
    (0: the end) and the pages."""
    prefix = app_prefix(app).encode("utf-8", "surrogateescape")
    seen: set[bytes] = set()
    counts = dict.fromkeys(KEY_KINDS, 0)
    others: dict[str, int] = {}
    cursor, pages = 0, 0
    while True:
        reply = _ask(node, "SCAN", cursor, "COUNT", _PAGE, required=True)
        cursor, page = int(reply[0]), [key for key in reply[1] if key not in seen]
        pages += 1
        seen.update(page)
        mine = [key for key in page if key.startswith(prefix)]
        for kind, (keys, _owners) in group_by_kind(app, mine).items():
            counts[kind] += len(keys)
        if len(mine) < len(page):
            for key in page:
                if not key.startswith(prefix):
                    name = _family(key)
                    others[name] = others.get(name, 0) + 1
        if cursor == 0 or time.perf_counter() >= deadline or len(seen) >= _MAX_KEYS:
            return len(seen), counts, others, cursor, pages


def _family(key: bytes) -> str:
    """What a key not of the app belongs to: another Mognet app, or its first segment."""
    app = key.find(b".mognet.")
    if app >= 0:
        return _text(key[:app + 8]) + "*"
    for mark in (b":", b".", b"/"):
        cut = key.find(mark)
        if 0 < cut < 40:
            return _text(key[:cut + 1]) + "*"
    return "(other keys)"


def _keysizes(node: Node) -> dict[str, str]:
    """Redis 8's ``INFO keysizes`` for this db (histograms of sizes); {} before 8."""
    reply = _ask(node, "INFO", "keysizes")
    if not isinstance(reply, Mapping):
        return {}
    mine = f"db{node.db}_"
    return {_text(k)[len(mine):]: _histogram(v) for k, v in reply.items()
            if str(_text(k)).startswith(mine)}


def _histogram(value: Any) -> str:
    if isinstance(value, Mapping):  # redis-py splits "a=1,b=2" into a dict
        return ",".join(f"{_text(k)}={_text(v)}" for k, v in value.items())
    return str(_text(value))


def _keyspace(line: Any) -> dict[str, int]:
    """``keys=..,expires=..,avg_ttl=..`` (redis-py may have parsed it into a dict)."""
    if isinstance(line, Mapping):
        return {str(_text(k)): v for k, v in line.items() if isinstance(v, int)}
    if not isinstance(line, (str, bytes)):
        return {}
    parts = (part.split("=", 1) for part in str(_text(line)).split(","))
    return {k: int(v) for k, v in (p for p in parts if len(p) == 2) if v.isdigit()}


def _ask(node: Node, *command: Any, required: bool = False) -> Any:
    """A command's reply; a refused one (managed Redis renames INFO) is None unless
    ``required``."""
    try:
        reply = node.call(*command)
    except RedisUnavailable:
        raise
    except MognetLabError:
        if required:
            raise
        return None
    if isinstance(reply, Exception):
        raise translate_error(reply, node.label)
    return reply


def _text(raw: Any) -> Any:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


def _int(raw: Any) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None
