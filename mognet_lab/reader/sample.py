"""Which keys a sampled scan reads: a hash of each key's owner id, and counts of all.

A result and the keys that hang off it (``/value``, ``/children``,
``/metadata``) share the result's id, so hashing that id keeps or drops the
whole family together and joins stay intact; a state hash is chosen by its
request id, any other key by its own name. The hash is CRC-32 (C code,
the same on every machine and in every process, unlike Python's salted
``hash()``), mixed with the seed and finished with MurmurHash3's ``fmix32``
(vectorised in NumPy) so that every seed draws a fresh, unrelated sample:
the same ids are chosen on every day and every node, so two sampled
snapshots of one app can be compared.

Every key SCAN names is counted by kind (the population), sampled or not:
those exact counts are what the estimates scale up to.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from typing import Sequence

import numpy as np

from ..keys import KEY_KINDS, KIND_STATE, KIND_UNKNOWN, app_prefix

__all__ = ["KeySample", "sample_hashes"]

_UUID = rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# The grammar of keys.parse_key, with the id to hash as one group.
_GRAMMAR = re.compile(rb"result\.(" + _UUID + rb")(/value|/children|/metadata)?\Z"
                      rb"|state\.(.+)\Z", re.DOTALL)
_FAMILY = {None: "result", b"/value": "value", b"/children": "children",
           b"/metadata": "metadata"}
_SCALE = float(1 << 32)
_SUBKINDS = {b"": "result", b"/value": "value", b"/children": "children",
             b"/metadata": "metadata"}
_HEX = b"0123456789abcdef-"
_FAMILY = {None: "result", b"/value": "value", b"/children": "children",
           b"/metadata": "metadata"}
_SCALE = float(1 << 32)
# One line of a joined page: (result id, sub-kind or "", "state" or "", request id).
_LINE = (rb"(?:result\.(" + _UUID + rb")(/value|/children|/metadata|)"
         rb"|(state)\.(.+))$")
_TAGS = {b"": "result", b"/value": "value", b"/children": "children",
         b"/metadata": "metadata", b"state": KIND_STATE}


def _valid_uuids(joined: bytes, count: int) -> bool:
    """Whether ``joined`` is ``count`` canonical lowercase UUIDs, 36 bytes each."""
    return (len(joined) == 36 * count and not joined.translate(None, _HEX)
            and joined.count(b"-") == 4 * count
            and all(joined[at::36] == b"-" * count for at in (8, 13, 18, 23)))


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's finaliser: every input bit flips each output bit with p ~ 1/2."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def _seed_word(seed: int) -> np.uint32:
    return np.uint32(zlib.crc32(seed.to_bytes(8, "little")) ^ 0x9E3779B9)


def sample_hashes(ids: Sequence[bytes], seed: int) -> np.ndarray:
    """Uniform 32-bit hashes of ``ids`` under ``seed`` (``uint32``), the sample's order.

    An id is kept by a sample of fraction ``f`` when its hash is below ``f * 2**32``.
    """
    crc = zlib.crc32
    raw = np.fromiter(map(crc, ids), dtype=np.uint32, count=len(ids))
    with np.errstate(over="ignore"):
        return _fmix32(raw ^ _seed_word(seed))


class KeySample:
    """Keep a ``fraction`` of an app's keys, whole result families together.

    Attributes
    ----------
    population
        Keys offered to :meth:`keep` so far, by kind (``keys.KEY_KINDS``).
    shared
        Whether keys repeat across the nodes walked (then the walk counts a
        key once however many nodes hold it, at some cost per key).
    """

    def __init__(self, app: str, fraction: float, seed: int, *, shared: bool = False,
                 census_bytes: int | None = None) -> None:
        self.fraction, self.seed, self.census_bytes = float(fraction), seed, census_bytes
        self._app = app
        # Result ids whose value is large: their families are read whatever the hash,
        # and the keys read by name for them (SCAN may name them again later).
        self.census: set[bytes] = set()
        self.named: set[bytes] = set()
        # Several nodes read as one keyspace may hold the same key: then every key
        # is checked against those seen before it is counted (see Walk).
        self.shared = shared
        self._prefix = app_prefix(app).encode("utf-8", "surrogateescape")
        self._threshold = min(int(fraction * _SCALE), 1 << 32)
        self.population = dict.fromkeys(KEY_KINDS, 0)

    def keep(self, keys: Sequence[bytes]) -> list[bytes]:
        """The keys of the sample among ``keys`` (each counted in :attr:`population`)."""
        if not keys:
            return []
        ids = self._page_ids(keys)
        if ids is None:  # states, unknown keys: the whole grammar, key by key
            ids = self._owner_ids(keys)
        chosen = sample_hashes(ids, self.seed) < self._threshold
        if self.census:
            chosen |= np.fromiter(map(self.census.__contains__, ids), dtype=bool,
                                  count=len(ids))
        kept = [keys[i] for i in np.flatnonzero(chosen).tolist()]
        return [key for key in kept if key not in self.named] if self.named else kept

    def unchosen_values(self, keys: Sequence[bytes], kept: Sequence[bytes]) -> list[bytes]:
        """The value keys among ``keys`` that :meth:`keep` left out (census candidates)."""
        if self.census_bytes is None:
            return []
        taken = set(kept)
        return [key for key in keys if key.endswith(b"/value") and key not in taken
                and key.startswith(self._prefix)]

    def add_census(self, values: Sequence[bytes]) -> list[bytes]:
        """Take the families of these large values whatever the hash: the names of their
        other keys, to read by name (a key SCAN names later is then not read twice)."""
        start = len(self._prefix) + 7
        names: list[bytes] = []
        for key in values:
            result_id = key[start:start + 36]
            self.census.add(result_id)
            family = key[:start + 36]
            names.extend(name for name in (family, family + b"/children",
                                           family + b"/metadata") if name not in self.named)
        self.named.update(names)
        return names

    def _page_ids(self, keys: Sequence[bytes]) -> list[bytes] | None:
        """Owner ids of a page, its result-family keys checked against Mognet's grammar
        a page at a time in C, the others (states, unknown keys) one by one (``None``:
        the page needs the key-by-key grammar)."""
        start = len(self._prefix)
        family = self._prefix + b"result."
        heads = [key[:start + 7] for key in keys]
        odd = [] if heads.count(family) == len(keys) else \
            [i for i, head in enumerate(heads) if head != family]
        places = set(odd)
        rest = [key for i, key in enumerate(keys) if i not in places] if odd else keys
        ids = [key[start + 7:start + 43] for key in rest]
        tails = Counter([key[start + 43:] for key in rest])
        if not _valid_uuids(b"".join(ids), len(ids)) or not set(tails) <= set(_SUBKINDS):
            return None
        for tail, n in tails.items():
            self.population[_SUBKINDS[tail]] += n
        return self._merge(keys, odd, ids) if odd else ids

    def _merge(self, keys: Sequence[bytes], odd: list[int], ids: list[bytes]) -> list[bytes]:
        """``ids`` of the family keys with the ids of the keys at ``odd`` put back in place."""
        others, family, places = iter(self._owner_ids([keys[i] for i in odd])), iter(ids), set(odd)
        return [next(others) if i in places else next(family) for i in range(len(keys))]

    def _owner_ids(self, keys: Sequence[bytes]) -> list[bytes]:
        """Each key's result id, request id or (unknown keys) the key; counts kinds."""
        prefix, start, match = self._prefix, len(self._prefix), _GRAMMAR.match
        counts = self.population
        ids: list[bytes] = []
        for key in keys:
            found = match(key, start) if key.startswith(prefix) else None
            if found is None:
                counts[KIND_UNKNOWN] += 1
                ids.append(key)
                continue
            result_id, sub, state_id = found.groups()
            if state_id is not None:
                counts[KIND_STATE] += 1
                ids.append(state_id)
            else:
                counts[_FAMILY[sub]] += 1
                ids.append(result_id)
        return ids
