"""Server-wide facts: INFO, DBSIZE and (where allowed) CONFIG GET."""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple

from ..errors import MognetLabError, RedisUnavailable
from .node import Node

__all__ = ["ServerIdentity", "read_server", "server_identity"]

_INFO_FIELDS = {
    "redis_version": "redis_version",
    "used_memory": "used_memory",
    "used_memory_peak": "used_memory_peak",
    "maxmemory": "maxmemory",
    "maxmemory_policy": "maxmemory_policy",
    "mem_fragmentation_ratio": "mem_fragmentation_ratio",
    "evicted_keys": "evicted_keys",
    "expired_keys": "expired_keys",
    "connected_clients": "connected_clients",
    "maxclients": "maxclients",
}
# Which copy of the data a node holds (INFO replication): a primary and its
# replicas report the same master_replid once in sync. Not in the declared
# schema's required facts: a node that hides them is simply counted on its own.
_REPLICATION_FIELDS = ("role", "master_replid", "master_host", "master_port")
# Redis 7 renamed ziplist to listpack and keeps the old names as aliases.
_CONFIG_FIELDS = {
    "timeout": ("timeout",),
    "hash_max_listpack_entries": ("hash-max-listpack-entries", "hash-max-ziplist-entries"),
    "hash_max_listpack_value": ("hash-max-listpack-value", "hash-max-ziplist-value"),
    "maxclients": ("maxclients",),
    "maxmemory": ("maxmemory",),
    "maxmemory_policy": ("maxmemory-policy",),
}


def read_server(node: Node) -> dict[str, Any]:
    """One ``server`` record; fields Redis would not tell are NA and listed in ``unknown``."""
    record: dict[str, Any] = {"node": node.label}
    unknown: list[str] = []
    info = _try(node, unknown, "INFO")
    for column, name in _INFO_FIELDS.items():
        record[column] = info.get(name) if info else None
    for column in _REPLICATION_FIELDS:
        found = info.get(column) if info else None
        record[column] = None if found is None else str(found)
    config = _try(node, unknown, "CONFIG GET", "*")
    for column, names in _CONFIG_FIELDS.items():
        found = next((config[n] for n in names if config and n in config), None)
        if record.get(column) is None:
            record[column] = _number_or_text(found)
    dbsize = _try(node, unknown, "DBSIZE")
    record["dbsize"] = dbsize if isinstance(dbsize, int) else None
    missing = [c for c in (*_INFO_FIELDS, *_CONFIG_FIELDS, "dbsize") if record.get(c) is None]
    if missing:
        unknown.append("not reported: " + ", ".join(dict.fromkeys(missing)))
    record["unknown"] = "; ".join(unknown) or None
    return record


def _try(node: Node, unknown: list[str], *command: str) -> Any:
    """Managed Redis often refuses CONFIG (or renames it): note that and go on."""
    try:
        reply = node.call(*command)
    except RedisUnavailable:
        raise
    except MognetLabError as exc:
        unknown.append(f"{command[0]} refused: {exc}")
        return None
    if isinstance(reply, Mapping):
        return {_text(k): _text(v) if isinstance(v, bytes) else v for k, v in reply.items()}
    return reply


def _text(raw: Any) -> Any:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


def _number_or_text(value: Any) -> Any:
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value


class ServerIdentity(NamedTuple):
    """Which server process answered: its ``run_id`` and uptime (``None``: not told)."""

    run_id: str | None
    uptime_s: int | None

    def same_process(self, later: ServerIdentity) -> bool:
        """Whether ``later`` (read after this) comes from the same server process."""
        if self.run_id is not None and later.run_id is not None:
            return self.run_id == later.run_id
        if self.uptime_s is not None and later.uptime_s is not None:
            return later.uptime_s >= self.uptime_s
        return True  # nothing to tell them apart by

    def describe(self) -> str:
        return f"run_id {self.run_id or '?'}, up {self.uptime_s if self.uptime_s is not None else '?'} s"


def server_identity(node: Node) -> ServerIdentity:
    """The node's server process as INFO server tells it (a refused INFO tells nothing)."""
    try:
        info = node.call("INFO", "server")
    except RedisUnavailable:
        raise
    except MognetLabError:
        return ServerIdentity(None, None)
    if not isinstance(info, dict):
        return ServerIdentity(None, None)
    run_id, uptime = info.get("run_id"), info.get("uptime_in_seconds")
    return ServerIdentity(run_id.decode() if isinstance(run_id, bytes) else
                          (str(run_id) if run_id is not None else None),
                          uptime if isinstance(uptime, int) else None)
