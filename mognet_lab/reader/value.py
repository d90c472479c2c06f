"""Read one result's stored value on request (``Lab.value``), never during a scan."""

from __future__ import annotations

from ..keys import app_prefix
from .node import Node
from .translate import translate_error

__all__ = ["read_value", "value_key"]


def value_key(app: str, result_id: str) -> str:
    """The key of a result's value hash: ``{app}.mognet.result.{id}/value``."""
    return f"{app_prefix(app)}result.{result_id}/value"


def read_value(node: Node, app: str, result_id: str) -> dict[bytes, bytes] | None:
    """The fields of ``result_id``'s value hash, or None when there is no such key.

    One ``HGETALL`` (read-only, in the allow-list), sent as a batch so that,
    like a scan, it does not touch the key's LRU/LFU data where the server
    has CLIENT NO-TOUCH; nothing is decoded here.
    """
    node.ensure_configured()
    (reply,) = node.batch([(b"HGETALL", value_key(app, result_id))])
    if isinstance(reply, Exception):
        raise translate_error(reply, node.label)
    if not reply:
        return None
    it = iter(reply)  # RESP2: field, value, field, value...
    return {bytes(k): bytes(v) for k, v in zip(it, it)}
