"""Read a batch of keys: one server-side read-only script call, or pipelines.

Both ways produce the same raw facts per key (type, PTTL, MEMORY USAGE,
element count, OBJECT ENCODING of values, and the hash fields or set members),
handed on undecoded as :class:`KeyReply`.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..keys import KIND_CHILDREN, KIND_UNKNOWN, KIND_VALUE, ParsedKey
from ..raw import Clipped, KeyReply
from ..settings import ScanSettings
from .node import Command, Node
from .translate import is_permission_error, translate_error

__all__ = ["fetch_batch", "EXPECTED_TYPE"]

EXPECTED_TYPE = {"result": "hash", "value": "hash", "children": "set",
                 "metadata": "hash", "state": "hash"}


def fetch_batch(node: Node, keys: Sequence[tuple[bytes, ParsedKey]],
                settings: ScanSettings) -> list[KeyReply]:
    """Read ``keys``; keys that vanished (expired) since SCAN are left out."""
    if not keys:
        return []
    if node.scripting:
        raws = node.run_script([key for key, _ in keys], _script_args(keys, settings))
    else:
        raws = _pipelined(node, keys, settings)
    replies = [_reply(key, parsed, raw, settings, node.label)
               for (key, parsed), raw in zip(keys, raws)]
    found = [reply for reply in replies if reply is not None]
    return [_read_large_set(node, r, settings) if _needs_sscan(r) else r for r in found]


def _script_args(keys: Sequence[tuple[bytes, ParsedKey]], settings: ScanSettings) -> list[Any]:
    samples = "" if settings.memory_samples is None else settings.memory_samples
    return [samples, settings.max_hash_fields, settings.max_members_per_call,
            settings.max_fetch_bytes, settings.head_bytes, *(p.kind for _, p in keys)]


def _memory_command(key: bytes, settings: ScanSettings) -> Command:
    if settings.memory_samples is None:
        return ("MEMORY USAGE", key)
    return ("MEMORY USAGE", key, "SAMPLES", settings.memory_samples)


def _pipelined(node: Node, keys: Sequence[tuple[bytes, ParsedKey]],
               settings: ScanSettings) -> list[list[Any]]:
    """Two round trips: type, TTL, memory and size first; then the contents."""
    first: list[Command] = []
    for key, parsed in keys:
        size = ("SCARD", key) if parsed.kind == KIND_CHILDREN else ("HLEN", key)
        first += [("TYPE", key), ("PTTL", key), _memory_command(key, settings), size]
    answers = node.batch(first)
    raws = [answers[i:i + 4] for i in range(0, len(answers), 4)]
    second: list[Command] = []
    wanted: list[tuple[int, str]] = []
    for index, ((key, parsed), raw) in enumerate(zip(keys, raws)):
        raw[0] = _text(raw[0])
        for command, slot in _content_commands(key, parsed.kind, raw, settings):
            second.append(command)
            wanted.append((index, slot))
        raw += [None, None]  # encoding, data
    for (index, slot), answer in zip(wanted, node.batch(second) if second else []):
        raws[index][4 if slot == "encoding" else 5] = answer
    return [_clip_raw(raw, settings) for raw in raws]


def _content_commands(key: bytes, kind: str, raw: list[Any],
                      settings: ScanSettings) -> list[tuple[Command, str]]:
    rtype, count = raw[0], raw[3]
    if kind == KIND_CHILDREN and rtype == "set":
        fits = isinstance(count, int) and count <= settings.max_members_per_call
        return [(("SMEMBERS", key), "data")] if fits else []
    if kind in (KIND_UNKNOWN, KIND_CHILDREN) or rtype != "hash":
        return []
    commands: list[tuple[Command, str]] = []
    if isinstance(count, int) and count <= settings.max_hash_fields:
        commands.append((("HGETALL", key), "data"))
    if kind == KIND_VALUE:
        commands.append((("OBJECT ENCODING", key), "encoding"))
    return commands


def _clip_raw(raw: list[Any], settings: ScanSettings) -> list[Any]:
    """Client-side twin of the script's clipping, so both paths decode alike."""
    data = raw[5]
    if isinstance(data, dict):
        contents = data.get(b"contents")
        if isinstance(contents, bytes) and len(contents) > settings.max_fetch_bytes:
            data[b"contents"] = Clipped(len(contents), contents[:settings.head_bytes],
                                        contents[-4:])
    return raw


def _reply(key: bytes, parsed: ParsedKey, raw: Any, settings: ScanSettings,
           where: str) -> KeyReply | None:
    for item in raw if isinstance(raw, list) else [raw]:
        if isinstance(item, Exception) and is_permission_error(item):
            raise translate_error(item, where)
    rtype = _text(raw[0])
    if rtype == "none" or raw[1] == -2:
        return None  # expired or deleted between SCAN and this read: not an error
    pttl, memory, count, encoding, data = (_int(raw[1]), _int(raw[2]), _int(raw[3]),
                                           raw[4], raw[5])
    expected = EXPECTED_TYPE.get(parsed.kind)
    error = None
    if expected is not None and rtype != expected:
        error, data = f"expected a {expected} for a {parsed.kind} key, found a {rtype}", None
    elif expected == "hash" and data is None:
        error = (f"hash has {count} fields, more than max_hash_fields="
                 f"{settings.max_hash_fields}: not read")
    if isinstance(data, list) and expected == "hash":
        data = _pairs(data)
    elif isinstance(data, (set, list)):
        data = list(data)
    enc = None if encoding is None or isinstance(encoding, Exception) else _text(encoding)
    return KeyReply(key, parsed, rtype, pttl, memory, data, count, enc, error)


def _pairs(flat: list[Any]) -> dict[bytes, Any]:
    it = iter(flat)
    pairs = dict(zip(it, it))
    contents = pairs.get(b"contents")
    if isinstance(contents, list):
        pairs[b"contents"] = Clipped(int(contents[0]), contents[1], contents[2])
    return pairs


def _int(raw: Any) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None


def _text(raw: Any) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _needs_sscan(reply: KeyReply) -> bool:
    return reply.redis_type == "set" and reply.parsed.kind == KIND_CHILDREN and reply.data is None


def _read_large_set(node: Node, reply: KeyReply, settings: ScanSettings) -> KeyReply:
    # Pages keep each call short on sets with very many children.
    cursor, members = 0, []
    while True:
        cursor, page = node.call("SSCAN", reply.key, cursor, "COUNT", settings.batch)
        members.extend(page)
        if int(cursor) == 0:
            return reply._replace(data=list(dict.fromkeys(members)))
