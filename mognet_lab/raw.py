"""Shapes of raw replies passed from the reader to the pure decoders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = ["Clipped", "KindBatch", "NotRead"]


class Clipped(NamedTuple):
    """A value's contents too large to fetch whole: its size, head and last 4 bytes."""

    size: int
    head: bytes
    tail: bytes


class NotRead(NamedTuple):
    """A value's contents left on the server: their size, and why they were not read."""

    size: int
    reason: str


@dataclass
class KindBatch:
    """What Redis said about the keys of one kind in one batch (raw, undecoded).

    Every list has one entry per key, in the same order: a batch is a handful
    of columns, not an object per key.
    """

    kind: str
    keys: list[bytes]
    owners: list[str | None]  # result id (result family) or request id (state)
    pttl_ms: list[int | None]
    memory_bytes: list[int | None]
    member_counts: list[int | None]  # HLEN of a hash, SCARD of a set
    redis_types: list[str]
    # Per key: dict of a hash (value contents may be Clipped or NotRead), tuple of a result's
    # Mognet fields in RESULT_FIELDS order, list of set members, or None.
    data: list[Any]
    errors: list[str | None]
    redis_encodings: list[str | None] = field(default_factory=list)  # values only

    def __len__(self) -> int:
        return len(self.keys)
