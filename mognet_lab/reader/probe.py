"""The small reads of connecting and discovering: PING, and whether a pattern has keys."""

from __future__ import annotations

from .node import Node

__all__ = ["has_keys", "ping"]


def ping(node: Node) -> None:
    """Check that the server answers (an error names what to do, see ``translate``)."""
    node.call("PING")


def has_keys(node: Node, pattern: str, *, count: int = 1000) -> bool:
    """Whether any key matches ``pattern``: SCAN until the first match, not the whole keyspace."""
    cursor, keys = node.call("SCAN", 0, "MATCH", pattern, "COUNT", count)
    while not keys and int(cursor) != 0:
        cursor, keys = node.call("SCAN", cursor, "MATCH", pattern, "COUNT", count)
    return bool(keys)
