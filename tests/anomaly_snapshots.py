"""Hand-built snapshots for the analysis tests: a healthy keyspace plus one fault at a time.

:class:`Keyspace` collects rows the way the scanner does (one ``keys`` row per
key, plus a row in the key's own frame) and derives the per-result columns with
the real :func:`mognet_lab.frames.build_frames`, so a test states only the
fault it is about and everything else stays consistent.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping


from mognet_lab.format import EXCEPTION_INFO_TYPE, NOT_READY_NAME
from mognet_lab.frames import build_frames
from mognet_lab.records import SET_SIZES, Columns
from mognet_lab.snapshot import Snapshot

__all__ = ["APP", "AT", "MiB", "Keyspace", "healthy", "healthy_server", "uid"]

APP = "shop"
AT = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
MiB = 1 << 20
RESULT_TTL = 21 * 86400.0
VALUE_TTL = 7 * 86400.0
STATE_TTL = 7200.0


def uid(n: int) -> str:
    """A stable result id for test ``n``."""
    return str(uuid.UUID(int=n))


def healthy_server(**changes: Any) -> dict[str, Any]:
    """A server the seed's advice is happy with: maxmemory with headroom, volatile-lru..."""
    server = {"node": "127.0.0.1:6379", "redis_version": "7.2.4", "used_memory": 100 * MiB,
              "used_memory_peak": 120 * MiB, "maxmemory": 1024 * MiB,
              "maxmemory_policy": "volatile-lru", "mem_fragmentation_ratio": 1.1,
              "evicted_keys": 0, "expired_keys": 50, "connected_clients": 12,
              "maxclients": 10000, "timeout": 300, "hash_max_listpack_entries": 128,
              "hash_max_listpack_value": 64, "dbsize": 40, "unknown": None}
    return {**server, **changes}


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Keyspace:
    """Rows of one app's keyspace, written as the scanner would record them."""

    def __init__(self, app: str = APP, at: datetime = AT) -> None:
        self.app, self.at = app, at
        self.frames: dict[str, Columns] = {}
        self.server: list[Mapping[str, Any]] = [healthy_server()]
        self._next = 0

    def _rows(self, frame: str) -> Columns:
        return self.frames.setdefault(frame, Columns())

    def key(self, rest: str, kind: str, owner: str | None, *, memory: int, ttl: float | None,
            redis_type: str = "hash", error: str | None = None) -> str:
        """A ``keys`` row for ``{app}.mognet.{rest}``."""
        name = f"{self.app}.mognet.{rest}"
        self._rows("keys").add({"key": name, "kind": kind, "result_id": owner,
                                "redis_type": redis_type, "memory_bytes": memory,
                                "ttl_s": ttl, "error": error})
        return name

    def result(self, state: str = "SUCCESS", *, age: timedelta = timedelta(hours=1),
               ran: timedelta = timedelta(minutes=1), value: str | None = "ok",
               memory: int = 300, value_memory: int = 200, ttl: float | None = RESULT_TTL,
               value_ttl: float | None = VALUE_TTL, starts: int | None = None,
               stops: int | None = None,
               name: str = "tasks.work", result_id: str | None = None,
               error: str | None = None) -> str:
        """A result hash created ``age`` before the scan, and its value.

        ``value``: "ok", "failure", "placeholder" (no TTL, as get_or_create
        leaves it) or None (no /value key).
        """
        self._next += 1
        rid = result_id or uid(self._next)
        created = self.at - age
        started = created if state != "PENDING" else None
        ready = state in ("SUCCESS", "FAILURE", "REVOKED", "INVALID")
        finished = created + ran if ready else None
        if starts is None:
            starts = 0 if state == "PENDING" else 1
        if stops is None:
            stops = starts - 1 if state == "RUNNING" else starts
        self.key(f"result.{rid}", "result", rid, memory=memory, ttl=ttl, error=error)
        self._rows("results").add({
            "result_id": rid, "name": name, "state": state, "number_of_starts": starts,
            "number_of_stops": stops, "parent_id": None, "created": _iso(created),
            "started": _iso(started), "finished": _iso(finished), "node_id": "worker-1",
            "request_kwargs_repr": None, "ttl_s": ttl, "memory_bytes": memory, "error": error})
        if value == "failure":
            self.value(rid, exception="builtins:ValueError", memory=value_memory, ttl=value_ttl)
        elif value is not None:
            self.value(rid, placeholder=value == "placeholder", memory=value_memory,
                       ttl=None if value == "placeholder" else value_ttl)
        return rid

    def value(self, rid: str, *, placeholder: bool = False, memory: int = 200,
              ttl: float | None = VALUE_TTL, stored: int = 60, raw: int = 120,
              exception: str | None = None, encoding: str = "listpack",
              error: str | None = None) -> str:
        """A /value hash (a placeholder has no TTL, as Mognet writes it)."""
        is_exc = placeholder or exception is not None
        self._rows("values").add({
            "result_id": rid,
            "value_type": EXCEPTION_INFO_TYPE if is_exc else "builtins:dict",
            "encoding": "gzip", "content_type": "application/json", "stored_bytes": stored,
            "raw_bytes": raw, "raw_bytes_source": "decompressed",
            "compression_ratio": raw / stored, "is_exception": is_exc,
            "exception_name": NOT_READY_NAME if placeholder else exception,
            "exception_message": None, "redis_encoding": encoding, "ttl_s": ttl,
            "memory_bytes": memory, "error": error})
        return self.key(f"result.{rid}/value", "value", rid, memory=memory, ttl=ttl,
                        error=error)

    def children(self, parent: str, child_ids: list[str], *, memory: int = 150,
                 ttl: float | None = RESULT_TTL) -> str:
        for child in child_ids:
            self._rows("children").add({"parent_id": parent, "child_id": child, "error": None})
        self._rows(SET_SIZES).add({"result_id": parent, "member_count": len(child_ids)})
        return self.key(f"result.{parent}/children", "children", parent, memory=memory,
                        ttl=ttl, redis_type="set")

    def metadata(self, rid: str, *, memory: int = 120, ttl: float | None = RESULT_TTL) -> str:
        self._rows("metadata").add({"result_id": rid, "field_count": 1, "ttl_s": ttl,
                                    "memory_bytes": memory, "error": None})
        return self.key(f"result.{rid}/metadata", "metadata", rid, memory=memory, ttl=ttl)

    def state(self, rid: str, *, fields: int = 2, memory: int = 100,
              ttl: float | None = STATE_TTL) -> str:
        self._rows("states").add({"request_id": rid, "field_count": fields, "fields": "{}",
                                  "ttl_s": ttl, "memory_bytes": memory, "error": None})
        return self.key(f"state.{rid}", "state", rid, memory=memory, ttl=ttl)

    def unknown(self, rest: str, *, memory: int = 80, ttl: float | None = None,
                redis_type: str = "string") -> str:
        return self.key(rest, "unknown", None, memory=memory, ttl=ttl, redis_type=redis_type)

    def snapshot(self, *, complete: bool = True) -> Snapshot:
        """The rows as a Snapshot, derived result columns computed as a scan does."""
        frames = build_frames(self.frames, self.server)
        return Snapshot.from_frames(app=self.app, scanned_at=self.at, complete=complete,
                                    **frames)


def healthy(*, running: bool = True) -> Keyspace:
    """A keyspace with nothing wrong.

    Finished results with values, a failure, a parent with children and
    metadata, a pending result and (``running``) a task started five minutes
    ago with its state hash and the TTL-less placeholder value Mognet gives it.
    """
    space = Keyspace()
    ids = [space.result("SUCCESS", age=timedelta(hours=i + 1)) for i in range(6)]
    space.result("FAILURE", value="failure", value_memory=900)
    space.children(ids[0], ids[1:3])
    space.metadata(ids[0])
    space.result("PENDING", age=timedelta(seconds=30), value=None)
    if running:
        task = space.result("RUNNING", age=timedelta(minutes=5), value="placeholder")
        space.state(task)
    return space
