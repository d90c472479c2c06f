"""Read one result's stored value on request (``Lab.value``), never during a scan.

The read honours ``max_bytes`` on the wire: the value's size is asked first
(``HSTRLEN``), and contents larger than the cap are never transferred whole.
On Redis 7+ the read-only clip script sends their first ``max_bytes`` and
gzip trailer; older servers cannot send part of a hash field, so only the
size is reported. Nothing is decoded here.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..keys import KIND_VALUE, result_key
from ..raw import Clipped
from .node import Node
from .translate import translate_error

__all__ = ["find_value", "read_value", "value_key"]

_META = (b"encoding", b"content_type")
ValueFields = dict[bytes, "bytes | Clipped"]


def value_key(app: str, result_id: str) -> str:
    """The key of a result's value hash: ``{app}.mognet.result.{id}/value``."""
    return result_key(app, result_id, KIND_VALUE)


def read_value(node: Node, app: str, result_id: str, *, max_bytes: int) -> ValueFields | None:
    """The value hash's ``encoding``, ``content_type`` and ``contents``, or None if absent.

    ``contents`` is the whole field when it holds at most ``max_bytes``, else
    a :class:`~mognet_lab.raw.Clipped` with its size, its first ``max_bytes``
    and last 4 bytes (Redis 7+), or with an empty head where the server cannot
    clip. At most about ``max_bytes`` of contents cross the wire. Every
    command is sent in a batch so that, like a scan, it does not touch the
    key's LRU/LFU data where the server has CLIENT NO-TOUCH.
    """
    node.ensure_configured()
    key = value_key(app, result_id).encode()
    replies = node.batch([(b"HLEN", key), (b"HSTRLEN", key, b"contents"),
                          (b"HMGET", key, *_META)])
    if any(str(reply).startswith("MOVED ") for reply in replies
           if isinstance(reply, Exception)):
        return None  # another primary of the cluster holds it (find_value asks each)
    length, size, meta = _checked(node, replies)
    if not length:
        return None
    fields: ValueFields = {name: bytes(raw) for name, raw in zip(_META, meta) if raw is not None}
    if size <= max_bytes:
        # Whole: small enough, and the only way to tell empty contents from none.
        (contents,) = _checked(node, node.batch([(b"HGET", key, b"contents")]))
        if contents is not None:
            fields[b"contents"] = bytes(contents)
    elif node.scripting:
        (clip,) = node.clip_contents([key], max_bytes)
        if clip:  # empty when the key vanished in between
            fields[b"contents"] = Clipped(int(clip[0]), bytes(clip[1]), bytes(clip[2]))
    else:
        fields[b"contents"] = Clipped(int(size), b"", b"")
    return fields


def find_value(nodes: Sequence[Node], app: str, result_id: str, *, max_bytes: int
               ) -> ValueFields | None:
    """:func:`read_value` on each node in turn until one holds the key."""
    for node in nodes:
        fields = read_value(node, app, result_id, max_bytes=max_bytes)
        if fields is not None:
            return fields
    return None


def _checked(node: Node, replies: list[Any]) -> list[Any]:
    for reply in replies:
        if isinstance(reply, Exception):
            raise translate_error(reply, node.label)
    return replies
