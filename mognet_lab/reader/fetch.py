"""Read a batch of keys, grouped by kind, in two pipelined round trips.

Round one asks every key's TTL, memory, size and the byte length of its
large fields; round two fetches what round one showed fits the byte limits
(:mod:`.plan`). Keys of one kind share one command template, so each reply
column is a slice of the batch's replies (``replies[j::count]``), never an
object per key; the columns are handed on raw, as
:class:`~mognet_lab.raw.KindBatch`. Round two on the walk's own connection
carries at most ``max_batch_bytes`` of replies; the rest of a heavy batch,
large values and large sets are read on other connections of the node.
"""

from __future__ import annotations

from typing import Any, Mapping

import redis.exceptions as rex

from ..keys import KIND_CHILDREN, KIND_UNKNOWN, KIND_VALUE
from ..raw import Clipped, KindBatch, NotRead
from ..settings import ScanSettings
from .node import KEY, Node, Template
from .plan import (
    CLIP,
    EXPECTED_TYPE,
    HGETALL,
    HMGET_META,
    Ask,
    first_round,
    second_round,
    too_many_fields,
)
from .translate import is_permission_error, translate_error

__all__ = ["FirstRound", "SecondRound", "fetch_batch", "resolve_types", "read_large_sets",
           "EXPECTED_TYPE"]

_TYPE = Template((b"TYPE", KEY))
_CONTENTS = Template((b"HGET", KEY, b"contents"))
Groups = Mapping[str, "tuple[list[bytes], list[str | None]]"]
Target = "tuple[_Group, int, Ask]"


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

    def first(self, i: int) -> list[Any]:
        return [column[i] for column in self.columns]


class FirstRound:
    """Round one of a batch, packed; :meth:`receive` turns its replies into groups."""

    def __init__(self, groups: Groups, settings: ScanSettings) -> None:
        self.plans = [(kind, keys, owners, first_round(kind, settings.memory_samples))
                      for kind, (keys, owners) in groups.items() if keys]
        self.requests = [(template, keys) for _, keys, _, template in self.plans]

    def receive(self, replies: list[Any], where: str) -> list[_Group]:
        _check_permission(replies, where)
        found, position = [], 0
        for kind, keys, owners, template in self.plans:
            count = template.count
            part = replies[position:position + count * len(keys)]
            position += count * len(keys)
            group = _Group(kind, keys, owners, [part[j::count] for j in range(count)])
            _drop_vanished(group)
            found.append(group)
        return found


class SecondRound:
    """Round two of a batch: what round one showed is safe to fetch.

    :attr:`requests` go on the walk's connection, up to ``max_batch_bytes``
    of replies; the rest waits for :meth:`receive`.
    """

    def __init__(self, groups: list[_Group], settings: ScanSettings) -> None:
        self.groups, self.settings = groups, settings
        self._streamed: list[tuple[_Group, int, Ask]] = []
        self._later: list[tuple[_Group, int, Ask]] = []
        self._clip: list[tuple[_Group, int]] = []
        budget = settings.max_batch_bytes
        for group in groups:
            if group.kind == KIND_UNKNOWN:
                continue
            for i, error in enumerate(group.errors):
                if error is not None:
                    continue
                ask, group.errors[i] = second_round(group.kind, group.first(i), settings)
                if ask is CLIP:
                    self._clip.append((group, i))
                elif isinstance(ask, Ask):
                    budget -= ask.bytes
                    (self._streamed if budget >= 0 else self._later).append((group, i, ask))
        self.requests = [(ask.template, group.keys[i]) for group, i, ask in self._streamed]

    def receive(self, node: Node, replies: list[Any]) -> list[KindBatch]:
        """Keep the replies, read the rest on other connections of ``node`` (the
        requests past the byte budget, large values and large sets), and hand the
        batch on."""
        retry: list[tuple[_Group, int, Ask]] = []
        for (group, i, ask), reply in zip(self._streamed, replies):
            _take(group, i, ask, reply, retry)
        for part in _by_bytes(self._later, self.settings.max_batch_bytes):
            found = node.batch_keyed([(ask.template, group.keys[i]) for group, i, ask in part])
            for (group, i, ask), reply in zip(part, found):
                _take(group, i, ask, reply, retry)
        by_name = [(group, i, group.data[i]) for group, i, ask in
                   [*self._streamed, *self._later] if ask.form == "names" and group.data[i]]
        if self._clip:
            _clip(node, self._clip, self.settings)
        if by_name:
            _read_by_name(node, by_name, self.settings)
        for group, i, _ in retry:
            if group.columns[2][i] > self.settings.max_hash_fields:
                group.errors[i] = too_many_fields(group.columns[2][i], self.settings)
        retry = [(group, i, ask) for group, i, ask in retry if group.errors[i] is None]
        if retry:  # results with fields Mognet does not write: read whole (bytes bounded)
            found = node.batch_keyed([(HGETALL, group.keys[i]) for group, i, _ in retry])
            for (group, i, _), reply in zip(retry, found):
                _take(group, i, Ask(HGETALL, 0, "pairs"), reply, [])
        return read_large_sets(node, [_finish(group) for group in self.groups], self.settings)


def fetch_batch(node: Node, groups: Groups, settings: ScanSettings) -> list[KindBatch]:
    """Read the keys of ``groups`` (``{kind: (keys, owners)}``) in two round trips; keys
    that vanished (expired or deleted) since SCAN are left out."""
    first = FirstRound(groups, settings)
    found = first.receive(node.batch_grouped(first.requests), node.label)
    resolve_types(node, found)
    second = SecondRound(found, settings)
    return second.receive(node, node.batch_keyed(second.requests))


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


def resolve_types(node: Node, groups: list[_Group]) -> None:
    """TYPE for unknown keys (asked in round one) and keys of the wrong type."""
    wrong: list[tuple[_Group, int]] = []
    for group in groups:
        if group.kind == KIND_UNKNOWN:
            group.types = [_text(size) for size in group.columns[2]]
            continue
        wrong.extend((group, i) for i, size in enumerate(group.columns[2])
                     if size.__class__ is rex.ResponseError)
    for (group, i), found in zip(wrong, node.batch_keyed([(_TYPE, g.keys[i]) for g, i in wrong])):
        group.types[i] = _text(found)
        group.errors[i] = f"expected a {group.expected} for a {group.kind} key, " \
                          f"found a {group.types[i]}"


def _take(group: _Group, i: int, ask: Ask, reply: Any, retry: list[Any]) -> None:
    """Keep one round-two reply in the form the decoders take."""
    if reply.__class__ is rex.ResponseError:
        group.errors[i] = f"could not be read: {reply}"
        return
    form = ask.form
    if form in ("row", "row_no_kwargs"):
        found = len(reply) - reply.count(None)
        if form == "row" and group.columns[2][i] > found and found:
            retry.append((group, i, ask))  # fields Mognet does not write
            return
        if not found:
            group.types[i] = "none"  # vanished since round one
            return
        if form == "row_no_kwargs" and group.columns[2][i] > found + 1:
            group.errors[i] = f"{group.errors[i]}; fields Mognet does not write: not read"
        group.data[i] = tuple(reply) if form == "row" else (*reply, None)
    elif form == "value":
        if reply[0] is None:
            group.types[i] = "none"
            return
        group.data[i] = {name: value for name, value in
                         zip((b"contents", b"encoding", b"content_type"), reply)
                         if value is not None}
    elif not reply:
        # Round one saw fields or members; now there are none: the key expired or
        # was deleted in between. Like a key gone before round one, it is left out
        # rather than reported as a broken key.
        group.types[i] = "none"
    else:
        group.data[i] = _pairs(reply) if form == "pairs" else reply  # members or names


def _by_bytes(items: list[tuple[_Group, int, Ask]], limit: int) -> list[list[Any]]:
    """``items`` in consecutive parts of at most ``limit`` reply bytes (at least one each)."""
    parts: list[list[Any]] = []
    size = limit
    for item in items:
        if size + item[2].bytes > limit:
            parts.append([])
            size = 0
        parts[-1].append(item)
        size += item[2].bytes
    return parts


def _clip(node: Node, items: list[tuple[_Group, int]], settings: ScanSettings) -> None:
    """Values of Mognet's shape with large contents: size, head and trailer only."""
    metas = node.batch_keyed([(HMGET_META, group.keys[i]) for group, i in items])
    clipped = _contents(node, items, settings)
    for (group, i), meta in zip(items, metas):
        contents = clipped.get((id(group), i))
        if contents is None or meta.__class__ is rex.ResponseError:
            group.types[i] = "none"  # vanished since round one
            continue
        group.data[i] = {b"contents": contents, **{name: value for name, value in
                                                   zip((b"encoding", b"content_type"), meta)
                                                   if value is not None}}


def _contents(node: Node, items: list[tuple[_Group, int]], settings: ScanSettings
              ) -> dict[tuple[int, int], Any]:
    """Each value's contents: whole up to ``max_fetch_bytes``, else size, head and trailer.

    Up to ``server_clip_bytes`` they are fetched whole (at most
    ``max_batch_bytes`` per round trip) and clipped here: a script call copies
    the contents into Lua, which takes the server longer than sending them.
    Past it the server clips them where it runs scripts, so that a huge value
    never sits whole in its output buffer or in this process.
    """
    head = settings.head_bytes
    found_all: dict[tuple[int, int], Any] = {}
    found_all.update(_left_on_server(items, settings.max_contents_bytes))
    items = [(g, i) for g, i in items if (id(g), i) not in found_all]
    local = [(g, i, Ask(_CONTENTS, g.columns[3][i], "clip")) for g, i in items
             if not node.scripting or g.columns[3][i] <= settings.server_clip_bytes]
    for part in _by_bytes(local, settings.max_batch_bytes):
        found = node.batch_keyed([(_CONTENTS, group.keys[i]) for group, i, _ in part])
        for (group, i, _), reply in zip(part, found):
            whole = reply if reply is not None and len(reply) <= settings.max_fetch_bytes \
                else None
            found_all[id(group), i] = whole if whole is not None else \
                Clipped(len(reply), reply[:head], reply[-4:]) if reply else None
    remote = [(g, i, Ask(_CONTENTS, g.columns[3][i], "clip")) for g, i in items
              if node.scripting and g.columns[3][i] > settings.server_clip_bytes]
    for part in _by_bytes(remote, 1 << 20):
        found = node.clip_contents([group.keys[i] for group, i, _ in part], head)
        for (group, i, _), reply in zip(part, found):
            found_all[id(group), i] = Clipped(int(reply[0]), reply[1], reply[2]) \
                if reply else None
    return found_all


def _left_on_server(items: list[tuple[_Group, int]], limit: int | None
                    ) -> dict[tuple[int, int], NotRead]:
    """Contents over ``max_contents_bytes``: not read at all, not even by the clip script
    (whose reply copies them into the server's memory)."""
    if limit is None:
        return {}
    return {(id(g), i): NotRead(g.columns[3][i], (
        f"contents of {g.columns[3][i]} bytes not read: more than max_contents_bytes="
        f"{limit} (reading them makes Redis copy them into a reply, counted in its "
        "used_memory: near maxmemory that evicts keys; scan a replica for them)"))
        for g, i in items if g.columns[3][i] > limit}


def _read_by_name(node: Node, items: list[tuple[_Group, int, list[bytes]]],
                  settings: ScanSettings) -> None:
    """Value hashes with fields Mognet does not write: every field read by name, each
    within ``max_field_bytes``, and ``contents`` measured as usual."""
    others = [(group, i, [name for name in names if name != b"contents"])
              for group, i, names in items]
    lengths = iter(node.batch([(b"HSTRLEN", group.keys[i], name)
                               for group, i, names in others for name in names]))
    reads = []
    for group, i, names in others:
        sizes = [next(lengths) for _ in names]
        fits = [n for n, size in zip(names, sizes) if size.__class__ is int and
                size <= settings.max_field_bytes]
        if len(fits) < len(names):
            skipped = sorted(_text(n) for n in set(names) - set(fits))
            group.errors[i] = (f"fields {skipped[:5]} longer than max_field_bytes="
                               f"{settings.max_field_bytes}: not read")
        reads.append((group, i, fits))
    values = iter(node.batch([(b"HMGET", group.keys[i], *fits)
                              for group, i, fits in reads if fits]))
    contents = _contents(node, [(g, i) for g, i, _ in reads if g.columns[3][i]], settings)
    for group, i, fits in reads:
        fields = dict(zip(fits, next(values))) if fits else {}
        if (id(group), i) in contents:
            fields[b"contents"] = contents[id(group), i]
        group.data[i] = {name: value for name, value in fields.items() if value is not None}


def _finish(group: _Group) -> KindBatch:
    """The group's columns as a :class:`KindBatch`, vanished keys left out."""
    if "none" in group.types:
        group.keep([rtype != "none" for rtype in group.types])
    columns, sizes = group.columns, group.columns[2]
    encodings = [None if e is None or isinstance(e, Exception) else _text(e)
                 for e in columns[6]] if group.kind == KIND_VALUE else []
    return KindBatch(
        kind=group.kind, keys=group.keys, owners=group.owners,
        pttl_ms=[_int(p) for p in columns[0]], memory_bytes=[_int(m) for m in columns[1]],
        member_counts=[s if s.__class__ is int else None for s in sizes],
        redis_types=[t or "none" for t in group.types], data=group.data, errors=group.errors,
        redis_encodings=encodings)


def _pairs(flat: list[Any]) -> dict[bytes, Any]:
    it = iter(flat)
    return dict(zip(it, it))


def _int(raw: Any) -> int | None:
    return raw if raw.__class__ is int else None


def _text(raw: Any) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def read_large_sets(node: Node, batches: list[KindBatch], settings: ScanSettings
                    ) -> list[KindBatch]:
    """Children sets too large for one SMEMBERS, read in SSCAN pages up to
    ``max_edges_per_parent`` members (``member_counts`` keeps SCARD's count)."""
    for batch in batches:
        if batch.kind != KIND_CHILDREN:
            continue
        for i, (members, error, rtype) in enumerate(zip(batch.data, batch.errors,
                                                        batch.redis_types)):
            if members is None and error is None and rtype == "set":
                batch.data[i] = _sscan_members(node, batch.keys[i], settings)
                count = batch.member_counts[i]
                if count is not None and len(batch.data[i]) < count:
                    batch.errors[i] = (f"set has {count} members, more than "
                                       f"max_edges_per_parent={settings.max_edges_per_parent}:"
                                       f" {len(batch.data[i])} of them kept")
    return batches


def _sscan_members(node: Node, key: bytes, settings: ScanSettings) -> list[bytes]:
    # Pages keep each call short on sets with very many children; reading stops
    # once enough members are kept.
    cursor, members = 0, {}
    limit = settings.max_edges_per_parent
    while True:
        cursor, page = node.call("SSCAN", key, cursor, "COUNT", settings.scan_count)
        members.update(dict.fromkeys(page))
        if int(cursor) == 0 or len(members) >= limit:
            return list(members)[:limit]
