"""Redis Cluster and replicas: which servers a scan reads.

A scan of one cluster node sees only the keys of that node's slots (about a
third on a 3-node cluster), so the reader asks the node for the cluster's
slot map (``CLUSTER SLOTS``) and reads every primary. Mognet itself needs a
single Redis; this is about not giving a third of the numbers as the whole.

Asked to (``replicas=True``), the reader takes each primary's replica
instead, so that the scan adds no load to the servers Mognet writes to. A
primary without a reachable replica is read itself, with a warning.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

from ..errors import MognetLabError, RedisUnavailable, ScanWarning, TLSFailed
from .node import Node

__all__ = ["expand_cluster", "cluster_shards"]

Address = tuple[str, int]


def cluster_shards(node: Node) -> list[tuple[Address, list[Address]]] | None:
    """``(primary, [replicas])`` of each shard when ``node`` is a Cluster node, else None."""
    try:
        info = node.call("INFO", "cluster")
    except (RedisUnavailable, TLSFailed):
        raise
    except MognetLabError:
        return None  # INFO refused (ACL): read the node as it is
    if not isinstance(info, dict) or str(info.get("cluster_enabled", 0)) != "1":
        return None
    own_host = node.address[0] if node.address else ""
    shards: dict[Address, list[Address]] = {}
    for entry in node.call("CLUSTER", "SLOTS") or []:
        # One entry per slot range: start, end, the primary, then its replicas.
        primary, *replicas = (_address(server, own_host) for server in entry[2:])
        known = shards.setdefault(primary, [])
        known.extend(r for r in replicas if r not in known)
    return list(shards.items())


def expand_cluster(nodes: Sequence[Node], *, strict: bool = True,
                   replicas: bool = False) -> tuple[Node, ...]:
    """``nodes`` with each Cluster node replaced by all of its cluster's primaries.

    ``replicas=True``: a replica of each primary instead, where it has one
    that answers (a plain server: its first online replica). ``strict=False``:
    a node that cannot be reached now is kept as it is (the error then comes
    with its first command).
    """
    out: dict[Address | int, Node] = {}
    for node in nodes:
        try:
            shards = cluster_shards(node)
        except (RedisUnavailable, TLSFailed):
            if strict:
                raise
            shards = None
        if shards is None:
            chosen = _plain_replica(node) if replicas else node
            out[chosen.address or id(chosen)] = chosen
            continue
        for primary, copies in shards:
            if primary not in out:
                out[primary] = _shard_node(node, primary, copies, replicas)
        if node.address not in out or out[node.address] is not node:
            node.close()  # not one of the nodes read: its data is read elsewhere
    return tuple(out.values())


def _shard_node(seed: Node, primary: Address, replicas: Sequence[Address],
                want_replica: bool) -> Node:
    """The node to read for one shard: a replica that answers if wanted, else the primary."""
    if want_replica:
        for address in replicas:
            replica = _answering(seed.sibling(*address, replica=True, cluster=True))
            if replica is not None:
                return replica
        _no_replica(f"{primary[0]}:{primary[1]}")
    found = seed if seed.address == primary else seed.sibling(*primary)
    found.cluster = True
    return found


def _plain_replica(node: Node) -> Node:
    """A plain server's first online replica (``INFO replication``), else the server."""
    try:
        info = node.call("INFO", "replication")
    except MognetLabError:
        info = {}
    if not isinstance(info, dict) or info.get("role") != "master":
        return node  # already a replica (or INFO refused): read it as given
    for name in sorted(k for k in info if k.startswith("slave") and k[5:].isdigit()):
        entry = info[name]
        if isinstance(entry, dict) and entry.get("state") == "online":
            address = (str(entry.get("ip")), int(entry.get("port", 0)))
            replica = _answering(node.sibling(*address, replica=True))
            if replica is not None:
                node.close()
                return replica
    _no_replica(node.label)
    return node


def _answering(node: Node) -> Node | None:
    try:
        node.call("PING")
        return node
    except MognetLabError:
        node.close()
        return None


def _no_replica(where: str) -> None:
    warnings.warn(f"No replica of the Redis primary at {where} answers: the scan reads the "
                  "primary itself.", ScanWarning, stacklevel=4)


def _address(server: Sequence[Any], own_host: str) -> Address:
    return _text(server[0]) or own_host, int(server[1])


def _text(raw: Any) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
