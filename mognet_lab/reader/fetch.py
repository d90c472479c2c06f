"""Read a batch of keys, grouped by kind, in two pipelined round trips.

Round one asks every key's TTL, memory and size (and a result's Mognet
fields, which are bounded); round two fetches what round one showed is safe
to fetch: hash fields, set members, value contents (clipped server-side when
very large). Keys of one kind share one command template, so each reply
column is a slice of the batch's replies (``replies[j::count]``), never an
object per key; the columns are handed on raw, as
:class:`~mognet_lab.raw.KindBatch`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

import redis.exceptions as rex

from ..format import RESULT_FIELDS
from ..keys import KIND_CHILDREN, KIND_RESULT, KIND_UNKNOWN, KIND_VALUE
from ..raw import Clipped, KindBatch
from ..settings import ScanSettings
from .node import KEY, Node, Template
from .translate import is_permission_error, translate_error

__all__ = ["fetch_batch", "read_large_sets", "EXPECTED_TYPE"]

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
_CLIP = "clip"
Groups = Mapping[str, "tuple[list[bytes], list[str | None]]"]


@lru_cache(maxsize=64)
def _first_round(kind: str, samples: int | None) -> Template:
    """Round one for a key of ``kind``: TTL, memory, size (and bounded fields)."""
    memory = (b"MEMORY", b"USAGE", KEY) if samples is None else \
        (b"MEMORY", b"USAGE", KEY, b"SAMPLES", samples)
    return Template((b"PTTL", KEY), memory, _SIZE.get(kind, (b"HLEN", KEY)),
                    *_EXTRA.get(kind, ()))


class _Group:
    """The keys of one kind in a batch, and their replies as columns."""

    def __init__(self, kind: str, keys: list[bytes], owners: list[str | None],
                 columns: list[list[Any]]) -> None:
        self.kind, self.keys, self.owners, self.columns = kind, keys, owners, columns
        self.expected = EXPECTED_TYPE.get(kind)
        self.types: list[str | None] = [self.expected] * len(keys)
        self.errors: list[str | None] = [None] * len(keys)
        self.data: list[Any] = [None] * len(keys)

    def keep(self, alive: list[bool]) -> None:
        """Drop the keys whose ``alive`` entry is False."""
        def kept(values: list[Any]) -> list[Any]:
            return [value for value, ok in zip(values, alive) if ok]
        self.keys, self.owners = kept(self.keys), kept(self.owners)
        self.columns = [kept(column) for column in self.columns]
        self.types, self.errors, self.data = kept(self.types), kept(self.errors), kept(self.data)


def fetch_batch(node: Node, groups: Groups, settings: ScanSettings) -> list[KindBatch]:
    """Read the keys of ``groups`` (``{kind: (keys, owners)}``); keys that vanished
    (expired or deleted) since SCAN are left out."""
    plans = [(kind, keys, owners, _first_round(kind, settings.memory_samples))
             for kind, (keys, owners) in groups.items() if keys]
    replies = node.batch_grouped([(template, keys) for _, keys, _, template in plans])
    _check_permission(replies, node.label)
    found, position = [], 0
    for kind, keys, owners, template in plans:
        count = template.count
        part = replies[position:position + count * len(keys)]
        position += count * len(keys)
        group = _Group(kind, keys, owners, [part[j::count] for j in range(count)])
        _drop_vanished(group)
        found.append(group)
    _resolve_types(node, found)
    _second_round(node, found, settings)
    return read_large_sets(node, [_finish(group) for group in found], settings)


def _check_permission(replies: list[Any], where: str) -> None:
    for reply in replies:
        if reply.__class__ is rex.ResponseError and is_permission_error(reply):
            raise translate_error(reply, where)


def _drop_vanished(group: _Group) -> None:
    # Expired or deleted between SCAN and this read: not an error, just gone.
    # Redis never keeps an empty hash or set, so a size of 0 means the key
    # went away between the commands of this round.
    pttl, memory, size = group.columns[0], group.columns[1], group.columns[2]
    alive = [p != -2 and m is not None and s != 0 for p, m, s in zip(pttl, memory, size)]
    if not all(alive):
        group.keep(alive)


def _resolve_types(node: Node, groups: list[_Group]) -> None:
    """TYPE for unknown keys (asked in round one) and keys of the wrong type."""
    wrong: list[tuple[_Group, int]] = []
    for group in groups:
        if group.kind == KIND_UNKNOWN:
            group.types = [_text(size) for size in group.columns[2]]
            continue
        wrong.extend((group, i) for i, size in enumerate(group.columns[2])
                     if size.__class__ is rex.ResponseError)
    pairs = [(_SECOND[b"TYPE"], group.keys[i]) for group, i in wrong]
    for (group, i), found in zip(wrong, node.batch_keyed(pairs)):
        group.types[i] = _text(found)
        group.errors[i] = f"expected a {group.expected} for a {group.kind} key, " \
                          f"found a {group.types[i]}"


def _second_round(node: Node, groups: list[_Group], settings: ScanSettings) -> None:
    pairs: list[tuple[Template, bytes]] = []
    targets: list[tuple[_Group, int]] = []
    clip: list[tuple[_Group, int]] = []
    for group in groups:
        if group.kind == KIND_UNKNOWN:
            continue
        for i, template in enumerate(_content_templates(group, settings)):
            if template is None:
                continue
            if template is _CLIP:
                clip.append((group, i))
            else:
                pairs.append((template, group.keys[i]))  # type: ignore[arg-type]
                targets.append((group, i))
    for (group, i), reply in zip(targets, node.batch_keyed(pairs)):
        _receive(group, i, reply)
    if clip:
        _clip(node, clip, settings)


def _content_templates(group: _Group, settings: ScanSettings) -> list[Template | str | None]:
    """Per key of ``group``: what round two asks (None: nothing)."""
    kind, sizes, errors = group.kind, group.columns[2], group.errors
    if kind == KIND_CHILDREN:
        limit = settings.max_members_per_call
        return [None if error is not None else _SECOND[b"SMEMBERS"] if size <= limit else None
                for size, error in zip(sizes, errors)]
    out: list[Template | str | None] = []
    for i, size in enumerate(sizes):
        if errors[i] is not None:
            out.append(None)
        elif kind == KIND_RESULT and size <= len(row := group.columns[3][i]) - row.count(None):
            group.data[i] = row  # only Mognet's fields: round one has them all
            out.append(None)
        elif size > settings.max_hash_fields:
            errors[i] = (f"hash has {size} fields, more than max_hash_fields="
                         f"{settings.max_hash_fields}: not read")
            out.append(None)
        elif kind == KIND_VALUE and _only_mognet_value_fields(group, i):
            out.append(_CLIP if group.columns[3][i] > settings.max_fetch_bytes else _CONTENTS)
        else:
            out.append(_SECOND[b"HGETALL"])
    return out


def _only_mognet_value_fields(group: _Group, i: int) -> bool:
    """Whether HGET of ``contents`` gets everything: no other or missing fields."""
    size, stored, meta = group.columns[2][i], group.columns[3][i], group.columns[4][i]
    if not isinstance(stored, int) or not isinstance(meta, list) or stored == 0:
        return False
    return size == 1 + sum(value is not None for value in meta)


def _clip(node: Node, items: list[tuple[_Group, int]], settings: ScanSettings) -> None:
    """Large contents: size, head and trailer only (clipped by the server when it runs
    scripts, else here after fetching them whole), so both paths decode alike."""
    keys = [group.keys[i] for group, i in items]
    head = settings.head_bytes
    if not node.scripting:
        for (group, i), reply in zip(items, node.batch_keyed([(_CONTENTS, k) for k in keys])):
            _receive(group, i, Clipped(len(reply), reply[:head], reply[-4:]) if reply else None)
        return
    for (group, i), reply in zip(items, node.clip_contents(keys, head)):
        _receive(group, i, Clipped(int(reply[0]), reply[1], reply[2]) if reply else None)


def _receive(group: _Group, i: int, reply: Any) -> None:
    """Keep a round-two reply; an empty one means the key vanished since round one."""
    if reply is None or (isinstance(reply, list) and not reply):
        # Round one saw contents / fields / members; now there are none: the key
        # expired or was deleted in between. Like a key gone before round one,
        # it is left out rather than reported as a broken key.
        group.types[i] = "none"
    group.data[i] = reply


def _finish(group: _Group) -> KindBatch:
    """The group's columns as a :class:`KindBatch`, vanished keys left out."""
    if "none" in group.types:
        group.keep([rtype != "none" for rtype in group.types])
    kind, columns = group.kind, group.columns
    data = group.data
    for i, value in enumerate(data):
        if value.__class__ is rex.ResponseError:
            group.errors[i], data[i] = f"could not be read: {value}", None
        elif kind == KIND_RESULT and value is columns[3][i]:
            data[i] = tuple(value)
        elif kind == KIND_VALUE and group.errors[i] is None and not isinstance(value, list):
            # Round one read encoding and content_type; round two the contents.
            meta = {k: v for k, v in zip(_VALUE_META, columns[4][i]) if v is not None}
            data[i] = meta | ({b"contents": value} if value is not None else {})
        elif isinstance(value, list) and group.expected == "hash":
            data[i] = _pairs(value)
    sizes = columns[2]
    return KindBatch(
        kind=kind, keys=group.keys, owners=group.owners, pttl_ms=[_int(p) for p in columns[0]],
        memory_bytes=[_int(m) for m in columns[1]],
        member_counts=[s if s.__class__ is int else None for s in sizes],
        redis_types=[t or "none" for t in group.types], data=data, errors=group.errors,
        redis_encodings=[None if e is None or isinstance(e, Exception) else _text(e)
                         for e in columns[5]] if kind == KIND_VALUE else [])


def _pairs(flat: list[Any]) -> dict[bytes, Any]:
    it = iter(flat)
    return dict(zip(it, it))


def _int(raw: Any) -> int | None:
    return raw if raw.__class__ is int else None


def _text(raw: Any) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def read_large_sets(node: Node, batches: list[KindBatch], settings: ScanSettings
                    ) -> list[KindBatch]:
    """Children sets too large for one SMEMBERS, read in SSCAN pages."""
    for batch in batches:
        if batch.kind != KIND_CHILDREN:
            continue
        for i, (members, error, rtype) in enumerate(zip(batch.data, batch.errors,
                                                        batch.redis_types)):
            if members is None and error is None and rtype == "set":
                batch.data[i] = _sscan_members(node, batch.keys[i], settings)
    return batches


def _sscan_members(node: Node, key: bytes, settings: ScanSettings) -> list[bytes]:
    # Pages keep each call short on sets with very many children.
    cursor, members = 0, []
    while True:
        cursor, page = node.call("SSCAN", key, cursor, "COUNT", settings.batch)
        members.extend(page)
        if int(cursor) == 0:
            return list(dict.fromkeys(members))

