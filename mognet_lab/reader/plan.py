"""What each kind of key is asked, and how much one key may pull (pure).

Round one asks only bounded things: TTL, MEMORY USAGE, the number of fields
or members, and the byte length of the fields that can be large. Round two
asks for data only where round one showed it fits the byte limits of
:class:`~mognet_lab.settings.ScanSettings`; a key past them gets an error
cell saying how big it is, never an unbounded read.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from ..format import RESULT_FIELDS
from ..keys import KIND_CHILDREN, KIND_RESULT, KIND_UNKNOWN, KIND_VALUE
from ..settings import ScanSettings
from .node import KEY, Template

__all__ = ["Ask", "CLIP", "first_round", "second_round", "too_many_fields", "EXPECTED_TYPE", "RESULT_HEAD",
           "VALUE_META", "HGETALL", "HMGET_META"]

EXPECTED_TYPE = {"result": "hash", "value": "hash", "children": "set",
                 "metadata": "hash", "state": "hash"}
# Every result field but the last (request_kwargs_repr, the one that grows with
# the task's arguments): round one measures that one first.
RESULT_HEAD = tuple(name.encode() for name in RESULT_FIELDS[:-1])
_KWARGS = RESULT_FIELDS[-1].encode()
VALUE_META = (b"encoding", b"content_type")
_SIZE = {KIND_UNKNOWN: (b"TYPE", KEY), KIND_CHILDREN: (b"SCARD", KEY)}
_EXTRA = {KIND_RESULT: ((b"HSTRLEN", KEY, _KWARGS),),
          KIND_VALUE: ((b"HSTRLEN", KEY, b"contents"), (b"HSTRLEN", KEY, b"encoding"),
                       (b"HSTRLEN", KEY, b"content_type"), (b"OBJECT", b"ENCODING", KEY))}
HGETALL = Template((b"HGETALL", KEY))
_HKEYS = Template((b"HKEYS", KEY))
_SMEMBERS = Template((b"SMEMBERS", KEY))
_RESULT_ROW = Template((b"HMGET", KEY, *RESULT_HEAD, _KWARGS))
_RESULT_HEAD_ONLY = Template((b"HMGET", KEY, *RESULT_HEAD))
_VALUE = Template((b"HMGET", KEY, b"contents", *VALUE_META))
HMGET_META = Template((b"HMGET", KEY, *VALUE_META))
CLIP = "clip"
# Reply bytes of a field beyond its text: RESP framing, roughly.
_OVERHEAD = 16


class Ask(NamedTuple):
    """One round-two request: its command, the reply bytes expected, and the reply's form."""

    template: Template
    bytes: int
    form: str  # "row", "row_no_kwargs", "value", "pairs", "members", "names"


@lru_cache(maxsize=64)
def first_round(kind: str, samples: int | None) -> Template:
    """Round one for a key of ``kind``: TTL, memory, size, lengths of large fields."""
    memory = (b"MEMORY", b"USAGE", KEY) if samples is None else \
        (b"MEMORY", b"USAGE", KEY, b"SAMPLES", samples)
    return Template((b"PTTL", KEY), memory, _SIZE.get(kind, (b"HLEN", KEY)),
                    *_EXTRA.get(kind, ()))


def second_round(kind: str, first: list[Any], settings: ScanSettings
                 ) -> tuple[Ask | str | None, str | None]:
    """``(what round two asks, error)`` for one key from its round-one replies."""
    size, memory = first[2], first[1] if first[1].__class__ is int else 0
    if kind == KIND_CHILDREN:
        if size <= settings.max_members_per_call:
            return Ask(_SMEMBERS, size * (16 + _OVERHEAD), "members"), None
        return None, None  # read in SSCAN pages, up to max_edges_per_parent
    if kind == KIND_RESULT:  # Mognet's fields by name: a count of other fields waits
        return _result(first, memory, settings)
    if size > settings.max_hash_fields:
        return None, too_many_fields(size, settings)
    if kind == KIND_VALUE:
        if _only_mognet_value_fields(first):
            return _value(first, settings)
        # Other fields too: their names first, then each read within the byte limits.
        return Ask(_HKEYS, size * 64, "names"), None
    if memory > settings.max_key_bytes:
        return None, too_big("hash", memory, settings)
    return Ask(HGETALL, memory, "pairs"), None


def _result(first: list[Any], memory: int, settings: ScanSettings
            ) -> tuple[Ask | None, str | None]:
    kwargs = first[3] if first[3].__class__ is int else 0
    if kwargs > settings.max_field_bytes:
        return Ask(_RESULT_HEAD_ONLY, memory - kwargs, "row_no_kwargs"), (
            f"field 'request_kwargs_repr' of {kwargs} bytes, more than max_field_bytes="
            f"{settings.max_field_bytes}: not read")
    if memory > settings.max_key_bytes:
        return None, too_big("result hash", memory, settings)
    return Ask(_RESULT_ROW, memory, "row"), None


def _value(first: list[Any], settings: ScanSettings) -> tuple[Ask | str | None, str | None]:
    contents, encoding, content_type = first[3], first[4], first[5]
    longest = max(encoding, content_type)
    if longest > settings.max_field_bytes:
        name = "encoding" if encoding >= content_type else "content_type"
        return None, (f"field {name!r} of {longest} bytes, more than max_field_bytes="
                      f"{settings.max_field_bytes}: not read")
    if contents > settings.max_fetch_bytes:
        return CLIP, None
    return Ask(_VALUE, contents + encoding + content_type + 3 * _OVERHEAD, "value"), None


def _only_mognet_value_fields(first: list[Any]) -> bool:
    """Whether the hash holds ``contents`` and nothing but Mognet's other two fields."""
    size, lengths = first[2], first[3:6]
    if any(length.__class__ is not int for length in lengths) or not lengths[0]:
        return False
    return size == sum(length > 0 for length in lengths)


def too_many_fields(size: int, settings: ScanSettings) -> str:
    return f"hash has {size} fields, more than max_hash_fields={settings.max_hash_fields}: " \
        "not read"


def too_big(what: str, memory: int, settings: ScanSettings) -> str:
    return (f"{what} of about {memory} bytes (MEMORY USAGE), more than max_key_bytes="
            f"{settings.max_key_bytes}: not read")
