"""Read one result's stored value on request (``Lab.value``), never during a scan."""

from __future__ import annotations

from ..keys import app_prefix
from .node import Node

__all__ = ["read_value", "value_key"]


def value_key(app: str, result_id: str) -> str:
    """The key of a result's value hash: ``{app}.mognet.result.{id}/value``."""
    return f"{app_prefix(app)}result.{result_id}/value"


def read_value(node: Node, app: str, result_id: str) -> dict[bytes, bytes] | None:
    """The fields of ``result_id``'s value hash, or None when there is no such key.

    One ``HGETALL`` (read-only, in the allow-list); nothing is decoded here.
    """
    reply = node.call("HGETALL", value_key(app, result_id))
    if not reply:
        return None
    if isinstance(reply, dict):
        return {bytes(k): bytes(v) for k, v in reply.items()}
    it = iter(reply)  # a client without the HGETALL reply callback: flat list
    return {bytes(k): bytes(v) for k, v in zip(it, it)}
