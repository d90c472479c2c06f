"""Shapes of raw replies passed from the reader to the pure decoders."""

from __future__ import annotations

from typing import Any, NamedTuple

from .keys import ParsedKey

__all__ = ["Clipped", "KeyReply"]


class Clipped(NamedTuple):
    """A value's contents too large to fetch whole: its size, head and last 4 bytes."""

    size: int
    head: bytes
    tail: bytes


class KeyReply(NamedTuple):
    """What Redis said about one key (raw, undecoded)."""

    key: bytes
    parsed: ParsedKey
    redis_type: str
    pttl_ms: int | None
    memory_bytes: int | None
    data: Any  # dict of a hash (contents may be Clipped), list of set members, or None
    member_count: int | None  # HLEN of a hash, SCARD of a set
    redis_encoding: str | None
    error: str | None
