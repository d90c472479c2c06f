"""Read a batch of keys in two pipelined round trips.

Round one asks every key's TTL, memory and size (and a result's Mognet
fields, which are bounded); round two fetches what round one showed is safe
to fetch: hash fields, set members, value contents (clipped server-side when
very large). Replies are handed on raw, as :class:`~mognet_lab.raw.KeyReply`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

import redis.exceptions as rex

from ..format import RESULT_FIELDS
from ..keys import KIND_CHILDREN, KIND_RESULT, KIND_UNKNOWN, KIND_VALUE, ParsedKey
from ..raw import Clipped, KeyReply
from ..settings import ScanSettings
from .node import KEY, Node, Template
from .translate import is_permission_error, translate_error

__all__ = ["fetch_batch", "EXPECTED_TYPE"]

EXPECTED_TYPE = {"result": "hash", "value": "hash", "children": "set",
                 "metadata": "hash", "state": "hash"}
_RESULT_FIELDS = tuple(name.encode() for name in RESULT_FIELDS)
_VALUE_META = (b"encoding", b"content_type")
_SIZE = {KIND_UNKNOWN: (b"TYPE", KEY), KIND_CHILDREN: (b"SCARD", KEY)}
_EXTRA = {KIND_RESULT: ((b"HMGET", KEY, *_RESULT_FIELDS),),
          KIND_VALUE: ((b"HSTRLEN", KEY, b"contents"), (b"HMGET", KEY, *_VALUE_META),
                       (b"OBJECT", b"ENCODING", KEY))}
_SECOND = {name: Template((name, KEY)) for name in (b"HGETALL", b"SMEMBERS", b"TYPE")}
_CONTENTS = Template((b"HGET", KEY, b"contents"))


@lru_cache(maxsize=64)
def _first_round(kind: str, samples: int | None) -> Template:
    """Round one for a key of ``kind``: TTL, memory, size (and bounded fields)."""
    memory = (b"MEMORY", b"USAGE", KEY) if samples is None else \
        (b"MEMORY", b"USAGE", KEY, b"SAMPLES", samples)
    return Template((b"PTTL", KEY), memory, _SIZE.get(kind, (b"HLEN", KEY)),
                    *_EXTRA.get(kind, ()))


class _Key:
    """One key's replies as they arrive over the two rounds."""

    __slots__ = ("key", "parsed", "first", "data", "error", "rtype")

    def __init__(self, key: bytes, parsed: ParsedKey, first: list[Any]) -> None:
        self.key, self.parsed, self.first = key, parsed, first
        self.data: Any = None
        self.error: str | None = None
        self.rtype: str | None = EXPECTED_TYPE.get(parsed.kind)


def fetch_batch(node: Node, keys: Sequence[tuple[bytes, ParsedKey]],
                settings: ScanSettings) -> list[KeyReply]:
    """Read ``keys``; keys that vanished (expired) since SCAN are left out."""
    templates = [_first_round(parsed.kind, settings.memory_samples) for _, parsed in keys]
    replies = node.batch_keyed([(t, key) for t, (key, _) in zip(templates, keys)])
    items, position = [], 0
    for (key, parsed), template in zip(keys, templates):
        first = replies[position:position + template.count]
        position += template.count
        _check_permission(first, node.label)
        # Expired or deleted between SCAN and this read: not an error, just gone.
        # Redis never keeps an empty hash or set, so a size of 0 means the key
        # went away between the commands of this round.
        if first[0] != -2 and first[1] is not None and first[2] != 0:
            items.append(_Key(key, parsed, first))
    _resolve_types(node, items)
    _second_round(node, items, settings)
    found = [_reply(item) for item in items if item.rtype != "none"]
    return read_large_sets(node, found, settings)


def _check_permission(replies: list[Any], where: str) -> None:
    for reply in replies:
        if isinstance(reply, rex.ResponseError) and is_permission_error(reply):
            raise translate_error(reply, where)


def _resolve_types(node: Node, items: list[_Key]) -> None:
    """TYPE for unknown keys (asked in round one) and keys of the wrong type."""
    wrong = []
    for item in items:
        size = item.first[2]
        if item.parsed.kind == KIND_UNKNOWN:
            item.rtype = _text(size)
        elif isinstance(size, rex.ResponseError):
            wrong.append(item)
    for item, found in zip(wrong, node.batch_keyed([(_SECOND[b"TYPE"], i.key) for i in wrong])):
        item.rtype = _text(found)
        item.error = f"expected a {EXPECTED_TYPE[item.parsed.kind]} for a " \
                     f"{item.parsed.kind} key, found a {item.rtype}"


def _second_round(node: Node, items: list[_Key], settings: ScanSettings) -> None:
    pairs: list[tuple[Template, bytes]] = []
    targets: list[_Key] = []
    clip: list[_Key] = []
    for item in items:
        if item.error is not None or item.parsed.kind == KIND_UNKNOWN:
            continue
        template = _content_template(item, settings)
        if isinstance(template, str):  # "clip"
            clip.append(item)
        elif template is not None:
            pairs.append((template, item.key))
            targets.append(item)
    for item, reply in zip(targets, node.batch_keyed(pairs)):
        _receive(item, reply)
    if clip:
        _clip(node, clip, settings)


def _content_template(item: _Key, settings: ScanSettings) -> Template | str | None:
    kind, size = item.parsed.kind, item.first[2]
    if kind == KIND_CHILDREN:
        return _SECOND[b"SMEMBERS"] if size <= settings.max_members_per_call else None
    if kind == KIND_RESULT:
        found = sum(value is not None for value in item.first[3])
        if size <= found:
            item.data = item.first[3]  # only Mognet's fields: round one has them all
            return None
    if size > settings.max_hash_fields:
        item.error = (f"hash has {size} fields, more than max_hash_fields="
                      f"{settings.max_hash_fields}: not read")
        return None
    if kind == KIND_VALUE and _only_mognet_value_fields(item):
        if item.first[3] > settings.max_fetch_bytes:
            return "clip"
        return _CONTENTS
    return _SECOND[b"HGETALL"]


def _only_mognet_value_fields(item: _Key) -> bool:
    """Whether HGET of ``contents`` gets everything: no other or missing fields."""
    size, stored, meta = item.first[2], item.first[3], item.first[4]
    if not isinstance(stored, int) or not isinstance(meta, list) or stored == 0:
        return False
    return size == 1 + sum(value is not None for value in meta)


def _clip(node: Node, items: list[_Key], settings: ScanSettings) -> None:
    """Large contents: size, head and trailer only (clipped by the server when it runs
    scripts, else here after fetching them whole), so both paths decode alike."""
    if not node.scripting:
        for item, reply in zip(items, node.batch_keyed([(_CONTENTS, i.key) for i in items])):
            head = settings.head_bytes
            _receive(item, Clipped(len(reply), reply[:head], reply[-4:]) if reply else None)
        return
    for item, reply in zip(items, node.clip_contents([i.key for i in items],
                                                     settings.head_bytes)):
        _receive(item, Clipped(int(reply[0]), reply[1], reply[2]) if reply else None)


def _receive(item: _Key, reply: Any) -> None:
    """Keep a round-two reply; an empty one means the key vanished since round one."""
    if reply is None or (isinstance(reply, list) and not reply):
        # Round one saw contents / fields / members; now there are none: the key
        # expired or was deleted in between. Like a key gone before round one,
        # it is left out rather than reported as a broken key.
        item.rtype = "none"
    item.data = reply


def _reply(item: _Key) -> KeyReply:
    pttl, memory, size = item.first[0], item.first[1], item.first[2]
    kind, data = item.parsed.kind, item.data
    if isinstance(data, rex.ResponseError):
        item.error, data = f"could not be read: {data}", None
    if kind == KIND_RESULT and isinstance(data, list) and item.data is item.first[3]:
        data = tuple(data)
    elif kind == KIND_VALUE and item.error is None and not isinstance(data, list):
        # Round one read encoding and content_type; round two the contents.
        meta = dict(zip(_VALUE_META, item.first[4]))
        data = {k: v for k, v in meta.items() if v is not None} | (
            {b"contents": data} if data is not None else {})
    elif isinstance(data, list) and EXPECTED_TYPE.get(kind) == "hash":
        data = _pairs(data)
    encoding = item.first[5] if kind == KIND_VALUE and len(item.first) > 5 else None
    count = size if isinstance(size, int) else None
    return KeyReply(item.key, item.parsed, item.rtype or "none", _int(pttl), _int(memory),
                    data, count, None if isinstance(encoding, Exception) or encoding is None
                    else _text(encoding), item.error)


def _pairs(flat: list[Any]) -> dict[bytes, Any]:
    it = iter(flat)
    return dict(zip(it, it))


def _int(raw: Any) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None


def _text(raw: Any) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def read_large_sets(node: Node, replies: list[KeyReply], settings: ScanSettings
                    ) -> list[KeyReply]:
    """Children sets too large for one SMEMBERS, read in SSCAN pages."""
    return [_sscan_members(node, r, settings) if _needs_sscan(r) else r for r in replies]


def _needs_sscan(reply: KeyReply) -> bool:
    return reply.redis_type == "set" and reply.parsed.kind == KIND_CHILDREN and \
        reply.data is None and reply.error is None


def _sscan_members(node: Node, reply: KeyReply, settings: ScanSettings) -> KeyReply:
    # Pages keep each call short on sets with very many children.
    cursor, members = 0, []
    while True:
        cursor, page = node.call("SSCAN", reply.key, cursor, "COUNT", settings.batch)
        members.extend(page)
        if int(cursor) == 0:
            return reply._replace(data=list(dict.fromkeys(members)))
