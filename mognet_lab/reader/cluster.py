"""Redis Cluster: one node's URL stands for every primary of the cluster.

A scan of one cluster node sees only the keys of that node's slots (about a
third on a 3-node cluster), so the reader asks the node for the cluster's
slot map (``CLUSTER SLOTS``) and reads every primary. Mognet itself needs a
single Redis; this is about not giving a third of the numbers as the whole.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..errors import MognetLabError, RedisUnavailable, TLSFailed
from .node import Node

__all__ = ["expand_cluster", "cluster_primaries"]


def cluster_primaries(node: Node) -> list[tuple[str, int]] | None:
    """Addresses of the cluster's primaries when ``node`` is a Cluster node, else None."""
    try:
        info = node.call("INFO", "cluster")
    except (RedisUnavailable, TLSFailed):
        raise
    except MognetLabError:
        return None  # INFO refused (ACL): read the node as it is
    if not isinstance(info, dict) or str(info.get("cluster_enabled", 0)) != "1":
        return None
    slots = node.call("CLUSTER", "SLOTS")
    own = node.address
    primaries: dict[tuple[str, int], None] = {}
    for entry in slots or []:
        primary: Sequence[Any] = entry[2]
        host = _text(primary[0]) or (own[0] if own else "")
        primaries[host, int(primary[1])] = None
    return list(primaries)


def expand_cluster(nodes: Sequence[Node], *, strict: bool = True) -> tuple[Node, ...]:
    """``nodes`` with each Cluster node replaced by all of its cluster's primaries.

    ``strict=False``: a node that cannot be reached now is kept as it is (the
    error then comes with its first command).
    """
    out: dict[tuple[str, int] | int, Node] = {}
    for node in nodes:
        try:
            primaries = cluster_primaries(node)
        except (RedisUnavailable, TLSFailed):
            if strict:
                raise
            primaries = None
        if primaries is None:
            out[node.address or id(node)] = node
            continue
        for address in primaries:
            if address in out:
                continue
            found = node if node.address == address else node.sibling(*address)
            found.cluster = True
            out[address] = found
        if node.address not in primaries:
            node.close()  # a replica or a node without slots: its primary is read instead
    return tuple(out.values())


def _text(raw: Any) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
