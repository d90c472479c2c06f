"""Server-wide facts: INFO, DBSIZE and (where allowed) CONFIG GET."""

from __future__ import annotations

from typing import Any, Mapping

from ..errors import MognetLabError, RedisUnavailable
from .node import Node

__all__ = ["read_server"]

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
