"""Read a batch of keys in a few pipelined round trips.

Each key's kind decides what is read (HGETALL for hashes, SCARD then SMEMBERS
or SSCAN for children sets, TYPE for unknown keys), always with PTTL and
MEMORY USAGE. Replies are handed on raw; decoding happens elsewhere.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

from ..keys import KIND_CHILDREN, KIND_UNKNOWN, KIND_VALUE, ParsedKey
from ..settings import ScanSettings
from .node import Command, Node
from .translate import is_permission_error, translate_error

__all__ = ["KeyReply", "fetch_batch", "EXPECTED_TYPE"]

EXPECTED_TYPE = {"result": "hash", "value": "hash", "children": "set",
                 "metadata": "hash", "state": "hash"}


class KeyReply(NamedTuple):
    """What Redis said about one key (raw, undecoded)."""

    key: bytes
    parsed: ParsedKey
    redis_type: str | None
    pttl_ms: int | None
    memory_bytes: int | None
    data: Any  # dict of a hash, list of set members, or None
    member_count: int | None  # SCARD of a children set
    redis_encoding: str | None
    error: str | None


def _commands(key: bytes, kind: str, settings: ScanSettings) -> list[Command]:
    memory: Command = ("MEMORY USAGE", key) if settings.memory_samples is None else \
        ("MEMORY USAGE", key, "SAMPLES", settings.memory_samples)
    if kind == KIND_UNKNOWN:
        first: list[Command] = [("TYPE", key)]
    elif kind == KIND_CHILDREN:
        first = [("SCARD", key)]
    elif kind == KIND_VALUE:
        first = [("HGETALL", key), ("OBJECT ENCODING", key)]
    else:
        first = [("HGETALL", key)]
    return [*first, ("PTTL", key), memory]


def fetch_batch(node: Node, keys: Sequence[tuple[bytes, ParsedKey]],
                settings: ScanSettings) -> list[KeyReply]:
    """Read ``keys``; keys that vanished (expired) since SCAN are left out."""
    plans = [_commands(key, parsed.kind, settings) for key, parsed in keys]
    replies = node.batch([command for plan in plans for command in plan])
    out: list[KeyReply] = []
    position = 0
    for (key, parsed), plan in zip(keys, plans):
        chunk = replies[position: position + len(plan)]
        position += len(plan)
        reply = _interpret(key, parsed, chunk, node.label)
        if reply is not None:
            out.append(reply)
    out = _retype_mismatches(node, out)
    return _read_children(node, out, settings)


def _interpret(key: bytes, parsed: ParsedKey, chunk: list[Any], where: str) -> KeyReply | None:
    for item in chunk:
        if isinstance(item, Exception) and is_permission_error(item):
            raise translate_error(item, where)
    *first, pttl, memory = chunk
    if pttl == -2 or memory is None:
        return None  # expired or deleted between SCAN and this read: not an error
    notes = [f"MEMORY USAGE failed: {memory}"] if isinstance(memory, Exception) else []
    data, count, encoding, redis_type = None, None, None, EXPECTED_TYPE.get(parsed.kind)
    head = first[0]
    if isinstance(head, Exception):
        redis_type = None  # resolved by TYPE in a second round trip
        notes.append(_wrong_type_note(head, parsed.kind))
    elif parsed.kind == KIND_UNKNOWN:
        redis_type = _text(head)
    elif parsed.kind == KIND_CHILDREN:
        count = int(head)
    else:
        data = head
        if not data:
            return None  # an empty hash reply means the key is gone
    if parsed.kind == KIND_VALUE and not isinstance(first[1], Exception):
        encoding = _text(first[1])
    ttl = None if isinstance(pttl, Exception) else int(pttl)
    return KeyReply(key, parsed, redis_type, ttl,
                    None if isinstance(memory, Exception) else int(memory),
                    data, count, encoding, "; ".join(notes) or None)


def _wrong_type_note(error: Exception, kind: str) -> str:
    if str(error).startswith("WRONGTYPE"):
        return f"expected a {EXPECTED_TYPE.get(kind, '?')} for a {kind} key"
    return f"could not be read: {error}"


def _text(raw: Any) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _retype_mismatches(node: Node, replies: list[KeyReply]) -> list[KeyReply]:
    """Ask TYPE for keys whose read failed, so the keys frame shows what they are."""
    unknown = [i for i, reply in enumerate(replies) if reply.redis_type is None]
    if not unknown:
        return replies
    types = node.batch([("TYPE", replies[i].key) for i in unknown])
    for i, found in zip(unknown, types):
        if not isinstance(found, Exception):
            found_type = _text(found)
            note = f"{replies[i].error}, found a {found_type}"
            replies[i] = replies[i]._replace(redis_type=found_type, error=note)
    return [reply for reply in replies if reply.redis_type != "none"]


def _read_children(node: Node, replies: list[KeyReply], settings: ScanSettings) -> list[KeyReply]:
    """Members of children sets: SMEMBERS when small, SSCAN pages when large."""
    wanted = [i for i, r in enumerate(replies) if r.member_count is not None and r.error is None]
    small = [i for i in wanted if replies[i].member_count <= settings.max_members_per_call]
    members = node.batch([("SMEMBERS", replies[i].key) for i in small]) if small else []
    for i, got in zip(small, members):
        replies[i] = _with_members(replies[i], got)
    for i in wanted:
        if replies[i].member_count > settings.max_members_per_call:
            replies[i] = _with_members(replies[i], _sscan_all(node, replies[i].key, settings))
    return replies


def _with_members(reply: KeyReply, got: Any) -> KeyReply:
    if isinstance(got, Exception):
        return reply._replace(error=f"members could not be read: {got}")
    return reply._replace(data=list(got))


def _sscan_all(node: Node, key: bytes, settings: ScanSettings) -> list[bytes]:
    # Pages keep each call short on sets with very many children.
    cursor, members = 0, []
    while True:
        cursor, page = node.call("SSCAN", key, cursor, "COUNT", settings.batch)
        members.extend(page)
        if int(cursor) == 0:
            return list(dict.fromkeys(members))
