"""SCAN an app's keys in batches, counting each key once."""

from __future__ import annotations

from typing import Iterator

from .node import Node

__all__ = ["iter_keys"]


def iter_keys(node: Node, pattern: str, *, count: int, seen: set[bytes]) -> Iterator[list[bytes]]:
    """Yield batches of keys matching ``pattern`` that are not yet in ``seen``.

    SCAN may return a key more than once (while the keyspace is rehashing);
    ``seen`` is shared across nodes so replicas or re-scans add nothing twice.
    Never KEYS: SCAN keeps every call short.
    """
    cursor = 0
    while True:
        cursor, keys = node.call("SCAN", cursor, "MATCH", pattern, "COUNT", count)
        fresh = [key for key in dict.fromkeys(keys) if key not in seen]
        seen.update(fresh)
        if fresh:
            yield fresh
        if int(cursor) == 0:
            return
